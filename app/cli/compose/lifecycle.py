"""``skiff compose up/down/start/stop/restart/pause/unpause/kill/rm/pull/create``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from app.cli.command import Command, Context
from app.cli.compose.project import project_of, runner_of
from app.cli.options import UsageError, parse_signal
from engine import Runner, UpOptions

__all__ = ["COMMANDS"]


def _services(p: argparse.ArgumentParser) -> None:
    p.add_argument("services", nargs="*", metavar="SERVICE")


def _scale(values: list[str]) -> dict[str, int]:
    scale = {}
    for item in values:
        service, _, number = item.partition("=")
        if not number.isdigit():
            raise UsageError(f"invalid --scale {item!r}: use SERVICE=NUM")
        scale[service] = int(number)
    return scale


def _orphans_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--remove-orphans", action="store_true", help="Remove containers for "
                   "services not defined in the Compose file")


def _recreate_flags(p: argparse.ArgumentParser) -> None:
    """What up and create share: whether existing containers are made again."""
    p.add_argument("--force-recreate", action="store_true", help="Recreate containers even if "
                   "their configuration and image haven't changed")
    p.add_argument("--no-recreate", action="store_true", help="If containers already exist, "
                   "don't recreate them")
    p.add_argument("-y", "--yes", action="store_true", help='Assume "yes" as answer to all '
                   "prompts and run non-interactively")
    _orphans_flag(p)


def _up_options(args: argparse.Namespace, **more: Any) -> UpOptions:
    if args.force_recreate and args.no_recreate:
        raise UsageError("--force-recreate and --no-recreate are incompatible")
    return UpOptions(services=args.services, force_recreate=args.force_recreate,
                     no_recreate=args.no_recreate, remove_orphans=args.remove_orphans,
                     recreate_volumes=args.yes, **more)


def _b_up(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--detach", action="store_true",
                   help="Detached mode: Run containers in the background")
    p.add_argument("--build", action="store_true", help="Build images before starting "
                   "containers")
    p.add_argument("--no-build", action="store_true", help="Don't build an image, even if it's "
                   "policy")
    p.add_argument("--wait", action="store_true", help="Wait for services to be "
                   "running|healthy. Implies detached mode.")
    p.add_argument("--wait-timeout", type=int, default=None,
                   help="Maximum duration in seconds to wait for the project to be "
                   "running|healthy")
    p.add_argument("--no-deps", action="store_true", help="Don't start linked services")
    _recreate_flags(p)
    p.add_argument("--no-start", action="store_true", help="Don't start the services after "
                   "creating them")
    p.add_argument("--scale", action="append", default=[], metavar="SERVICE=NUM",
                   help="Scale SERVICE to NUM instances")
    p.add_argument("-t", "--timeout", type=int, default=None,
                   help="Use this timeout in seconds for container shutdown")
    p.add_argument("--no-color", action="store_true", help="Produce monochrome output")
    p.add_argument("--no-log-prefix", action="store_true", help="Don't print prefix in logs")
    _services(p)


async def cmd_up(ctx: Context) -> int:
    args = ctx.args
    if args.build and args.no_build:
        raise UsageError("--build and --no-build are incompatible")
    options = _up_options(args, no_deps=args.no_deps, start=not args.no_start,
                          wait=args.wait, wait_timeout=args.wait_timeout,
                          scale=_scale(args.scale), build=args.build, no_build=args.no_build)
    runner = runner_of(ctx)
    containers = await runner.up(options)
    if args.detach or args.wait or args.no_start:
        return 0
    from app.cli.compose.logs import follow_project

    try:
        return await follow_project(ctx, runner, [c.id for c in containers], until_exit=True,
                                    prefix=not args.no_log_prefix,
                                    colour=False if args.no_color else None)
    except asyncio.CancelledError:
        ctx.err.write("Gracefully stopping... (press Ctrl+C again to force)\n")
        for container in containers:
            await ctx.engine.containers.stop(container.id, args.timeout)
        raise


def _b_down(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--volumes", action="store_true", help="Remove named volumes declared "
                   'in the "volumes" section of the Compose file and anonymous volumes '
                   "attached to containers")
    p.add_argument("-t", "--timeout", type=int, default=None,
                   help="Specify a shutdown timeout in seconds")
    _orphans_flag(p)
    p.add_argument("--rmi", default="", choices=("", "local", "all"),
                   help='Remove images used by services. "local" remove only images that '
                   "don't have a custom tag")


async def cmd_down(ctx: Context) -> int:
    args = ctx.args
    await runner_of(ctx).down(volumes=args.volumes, timeout=args.timeout,
                              remove_orphans=args.remove_orphans, rmi=args.rmi)
    return 0


def _verb(name: str) -> Command:
    def build(p: argparse.ArgumentParser) -> None:
        if name in ("stop", "restart"):
            p.add_argument("-t", "--timeout", type=int, default=None,
                           help="Specify a shutdown timeout in seconds")
        if name == "kill":
            p.add_argument("-s", "--signal", default="SIGKILL",
                           help='SIGNAL to send to the container')
        _services(p)

    async def run(ctx: Context) -> int:
        args = ctx.args
        runner = runner_of(ctx)
        if name in ("stop", "restart"):
            await getattr(runner, name)(args.services, args.timeout)
        elif name == "kill":
            await runner.kill(args.services, parse_signal(args.signal))
        else:
            await getattr(runner, name)(args.services)
        return 0

    helps = {"start": "Start services", "stop": "Stop services",
             "restart": "Restart service containers", "kill": "Force stop service containers",
             "pause": "Pause services", "unpause": "Unpause services"}
    return Command(name, helps[name], build, run, "[SERVICE...]")


def _b_rm(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="Don't ask to confirm removal")
    p.add_argument("-s", "--stop", action="store_true",
                   help="Stop the containers, if required, before removing")
    p.add_argument("-v", "--volumes", action="store_true",
                   help="Remove any anonymous volumes attached to containers")
    _services(p)


async def cmd_rm(ctx: Context) -> int:
    args = ctx.args
    runner = runner_of(ctx)
    if args.stop:
        await runner.stop(args.services)
    doomed = [c.name for c in await runner.containers(services=args.services)
              if not c.state.running]
    if not doomed:
        ctx.err.write("No stopped containers\n")
        return 0
    if not args.force:
        ctx.err.write(f"Going to remove {', '.join(doomed)}\n")
    await runner.remove(args.services, volumes=args.volumes)
    return 0


def _b_pull(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="Pull without printing progress "
                   "information")
    p.add_argument("--ignore-pull-failures", action="store_true",
                   help="Pull what it can and ignores images with pull failures")
    _services(p)


async def cmd_pull(ctx: Context) -> int:
    args = ctx.args
    project = project_of(ctx)
    runner = Runner(ctx.engine, project) if args.quiet else runner_of(ctx, project)
    await runner.pull(args.services, ignore_failures=args.ignore_pull_failures)
    return 0


def _b_create(p: argparse.ArgumentParser) -> None:
    _recreate_flags(p)
    _services(p)


async def cmd_create(ctx: Context) -> int:
    await runner_of(ctx).up(_up_options(ctx.args, start=False))
    return 0


COMMANDS = [
    Command("up", "Create and start containers", _b_up, cmd_up, "[SERVICE...]"),
    Command("down", "Stop and remove containers, networks", _b_down, cmd_down),
    Command("create", "Creates containers for a service", _b_create, cmd_create, "[SERVICE...]"),
    *(_verb(n) for n in ("start", "stop", "restart", "kill", "pause", "unpause")),
    Command("rm", "Removes stopped service containers", _b_rm, cmd_rm, "[SERVICE...]"),
    Command("pull", "Pull service images", _b_pull, cmd_pull, "[SERVICE...]"),
]
