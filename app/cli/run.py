"""create and run: pull if needed, create, start, and attach to the output.

An attached run forwards our signals to the container (docker's --sig-proxy)
and removes an ``--rm`` container once its exit code is in.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

from app.cli.command import Context
from app.cli.createflags import build_config, console_size
from app.cli.logstream import LogWriter, follow_until_exit
from engine import NotFound, SkiffError


async def _create(ctx: Context, auto_remove: bool | None = None) -> Any:
    from app.cli.registry import ensure_image

    args = ctx.args
    image = await ensure_image(ctx, args.image, args.pull, args.platform)
    config = build_config(args, image.id, ctx.environ, auto_remove, console_size(ctx.out))
    return await ctx.engine.containers.create(config, name=args.name)


async def cmd_create(ctx: Context) -> int:
    container = await _create(ctx)
    ctx.out.write(container.id + "\n")
    return 0


async def _remove_quietly(ctx: Context, ref: str) -> None:
    with contextlib.suppress(NotFound):
        await ctx.engine.containers.remove(ref, force=True)


def _forget(pending: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(job: asyncio.Task[Any]) -> None:
        pending.discard(job)
        if not job.cancelled():
            job.exception()  # retrieved: a failed forward (container gone) is not an error
    return done


@contextlib.contextmanager
def _signal_proxy(ctx: Context, ref: str) -> Iterator[None]:
    """docker's --sig-proxy: our SIGINT/SIGTERM/SIGHUP go to the container.

    A second Ctrl-C stops waiting (the container keeps running), so a container
    that ignores SIGINT never traps the user.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupts = 0
    pending: set[asyncio.Task[Any]] = set()

    def forward(sig: signal.Signals) -> None:
        nonlocal interrupts
        if sig is signal.SIGINT:
            interrupts += 1
            if interrupts > 1 and task is not None:
                task.cancel()
                return
        job = asyncio.ensure_future(ctx.engine.containers.kill(ref, sig.name))
        pending.add(job)
        job.add_done_callback(_forget(pending))

    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, forward, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def attach_output(ctx: Context, ref: str, *, since_ns: int | None = None) -> int:
    """Stream the container's output until it exits; return its exit code."""
    writer = LogWriter(ctx.out_bytes, ctx.err_bytes)
    try:
        async with writer:
            with _signal_proxy(ctx, ref):
                return await follow_until_exit(
                    writer,
                    lambda follow, tail: ctx.engine.containers.logs(ref, follow=follow, tail=tail),
                    lambda: ctx.engine.containers.wait(ref),
                    since_ns=since_ns)
    except asyncio.CancelledError:
        return 130


async def run_interactive(ctx: Context, ref: str, *, remove: bool | None = None) -> int:
    """run -i/-t, start -ai: attached from the container's first byte, stdin ours."""
    args = ctx.args
    try:
        session = await ctx.engine.containers.start_attached(ref)
    except SkiffError:
        if remove if remove is not None else args.rm:
            await _remove_quietly(ctx, ref)
        raise
    from app.cli.attach import interact  # terminals and stdin: not for a plain run

    code = await interact(ctx, session, interactive=args.interactive,
                          tty=getattr(args, "tty", False))
    if code is None:
        code = await ctx.engine.containers.wait(ref)
    if remove if remove is not None else args.rm:
        await _remove_quietly(ctx, ref)
    return code


async def cmd_run(ctx: Context) -> int:
    args = ctx.args
    # --rm is the engine's AutoRemove, as in docker: a client killed midway leaves no
    # container behind. Attached, we also remove it ourselves once its exit code is in
    # (the engine leaves an exited --rm container to its client for a few seconds).
    container = await _create(ctx, auto_remove=args.rm)
    if not args.detach and (args.interactive or args.tty):
        return await run_interactive(ctx, container.id)
    try:
        await ctx.engine.containers.start(container.id)
    except SkiffError:
        if args.rm:
            await _remove_quietly(ctx, container.id)
        raise
    if args.detach:
        ctx.out.write(container.id + "\n")
        return 0
    code = await attach_output(ctx, container.id)
    if args.rm:
        await _remove_quietly(ctx, container.id)
    return code

