"""Lifecycle verbs: start, stop, restart, kill, pause, unpause, rm, wait, rename, diff.

Commands that take several containers go through all of them, report each
failure on stderr, and exit 1 at the end if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from app.cli.command import Context
from app.cli.options import UsageError, parse_signal
from engine import SkiffError


async def _each(ctx: Context, refs: Sequence[str], act: Callable[[str], Any],
                echo: bool = True, together: bool = False) -> int:
    """``together``: all at once, as docker's stop, kill, rm, pause and unpause do
    (an ``rm -f`` of 50 took 5.4 s one by one); still reported in the given order."""
    jobs = [asyncio.ensure_future(act(ref)) for ref in refs] if together else []
    for index, ref in enumerate(refs):
        try:
            await (jobs[index] if together else act(ref))
        except SkiffError as exc:
            ctx.daemon_error(exc)
            continue
        if echo:
            ctx.out.write(ref + "\n")
            ctx.out.flush()
    return ctx.status


async def cmd_start(ctx: Context) -> int:
    args = ctx.args
    if args.attach:
        if len(args.containers) > 1:
            raise UsageError("you cannot start and attach multiple containers at once", 1)
        from app.cli.run import attach_output, run_interactive

        ref = args.containers[0]
        if args.interactive:
            container = await ctx.engine.containers.get(ref)
            args.tty = container.config.tty
            return await run_interactive(ctx, ref, remove=False)
        since_ns = time.time_ns()
        await ctx.engine.containers.start(ref)
        return await attach_output(ctx, ref, since_ns=since_ns)
    return await _each(ctx, args.containers, ctx.engine.containers.start)


async def cmd_stop(ctx: Context) -> int:
    args = ctx.args
    sig = parse_signal(args.signal) if args.signal else None

    async def stop(ref: str) -> None:
        if sig is None:
            await ctx.engine.containers.stop(ref, timeout=args.time)
        else:
            await ctx.engine.containers.stop(ref, timeout=args.time, signal=sig)
    return await _each(ctx, args.containers, stop, together=True)


async def cmd_restart(ctx: Context) -> int:
    return await _each(ctx, ctx.args.containers,
                       lambda ref: ctx.engine.containers.restart(ref, timeout=ctx.args.time))


async def cmd_kill(ctx: Context) -> int:
    sig = parse_signal(ctx.args.signal)
    return await _each(ctx, ctx.args.containers, lambda ref: ctx.engine.containers.kill(ref, sig),
                       together=True)


async def cmd_pause(ctx: Context) -> int:
    return await _each(ctx, ctx.args.containers, ctx.engine.containers.pause, together=True)


async def cmd_unpause(ctx: Context) -> int:
    return await _each(ctx, ctx.args.containers, ctx.engine.containers.unpause, together=True)


async def cmd_rm(ctx: Context) -> int:
    args = ctx.args

    async def remove(ref: str) -> None:
        if args.volumes:
            await ctx.engine.containers.remove(ref, force=args.force, volumes=True)
        else:
            await ctx.engine.containers.remove(ref, force=args.force)
    return await _each(ctx, args.containers, remove, together=True)


async def cmd_wait(ctx: Context) -> int:
    async def wait(ref: str) -> None:
        code = await ctx.engine.containers.wait(ref)
        ctx.out.write(f"{code}\n")
        ctx.out.flush()
    return await _each(ctx, ctx.args.containers, wait, echo=False)


async def cmd_rename(ctx: Context) -> int:
    await ctx.engine.containers.rename(ctx.args.container, ctx.args.new_name)
    return 0


async def cmd_diff(ctx: Context) -> int:
    for change in await ctx.engine.containers.changes(ctx.args.container):
        ctx.out.write(f"{change.kind} {change.path}\n")
    return 0



def containers_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def build_start(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--attach", action="store_true",
                   help="Attach STDOUT/STDERR and forward signals")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="Attach container's STDIN")
    containers_arg(p)


def build_stop(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--time", type=int, default=None,
                   help="Seconds to wait before killing the container")
    p.add_argument("-s", "--signal", default="", help="Signal to send to the container")
    containers_arg(p)


def build_restart(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--time", type=int, default=None,
                   help="Seconds to wait before killing the container")
    containers_arg(p)


def build_kill(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--signal", default="KILL", help="Signal to send to the container")
    containers_arg(p)


def build_rm(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true",
                   help="Force the removal of a running container (uses SIGKILL)")
    p.add_argument("-v", "--volumes", action="store_true",
                   help="Remove anonymous volumes associated with the container")
    containers_arg(p)


def build_diff(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")


def build_rename(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("new_name", metavar="NEW_NAME")


def build_several(p: argparse.ArgumentParser) -> None:
    containers_arg(p)
