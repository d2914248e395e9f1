"""``skiff compose up/down/start/stop/restart/pause/unpause/kill/rm/pull/create``."""

from __future__ import annotations

import argparse
import asyncio

from app.cli.command import Command, Context
from app.cli.compose.project import project_of, runner_of
from app.cli.options import UsageError, parse_signal
from engine import UpOptions

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
    p.add_argument("--force-recreate", action="store_true", help="Recreate containers even if "
                   "their configuration and image haven't changed")
    p.add_argument("--no-recreate", action="store_true", help="If containers already exist, "
                   "don't recreate them")
    p.add_argument("--no-start", action="store_true", help="Don't start the services after "
                   "creating them")
    p.add_argument("--remove-orphans", action="store_true", help="Remove containers for "
                   "services not defined in the Compose file")
    p.add_argument("--scale", action="append", default=[], metavar="SERVICE=NUM",
                   help="Scale SERVICE to NUM instances")
    p.add_argument("-t", "--timeout", type=int, default=None,
                   help="Use this timeout in seconds for container shutdown")
    p.add_argument("--no-color", action="store_true", help="Produce monochrome output")
    p.add_argument("--no-log-prefix", action="store_true", help="Don't print prefix in logs")
    _services(p)


async def cmd_up(ctx: Context) -> int:
    args = ctx.args
    if args.force_recreate and args.no_recreate:
        raise UsageError("--force-recreate and --no-recreate are incompatible")
    runner = runner_of(ctx)
    if args.build:
        from app.cli.compose.building import build_services

        await build_services(ctx, runner.project, args.services)
    options = UpOptions(services=args.services, no_deps=args.no_deps,
                        force_recreate=args.force_recreate, no_recreate=args.no_recreate,
                        remove_orphans=args.remove_orphans, start=not args.no_start,
                        wait=args.wait, wait_timeout=args.wait_timeout,
                        scale=_scale(args.scale))
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
    p.add_argument("--remove-orphans", action="store_true", help="Remove containers for "
                   "services not defined in the Compose file")
    p.add_argument("--rmi", default="", choices=("", "local", "all"),
                   help='Remove images used by services. "local" remove only images that '
                   "don't have a custom tag")


async def cmd_down(ctx: Context) -> int:
    args = ctx.args
    await runner_of(ctx).down(volumes=args.volumes, timeout=args.timeout,
                              remove_orphans=args.remove_orphans, rmi=args.rmi)
    return 0


def _verb(name: str, doing: str, done: str, timeout: bool = False, signal: bool = False
          ) -> Command:
    def build(p: argparse.ArgumentParser) -> None:
        if timeout:
            p.add_argument("-t", "--timeout", type=int, default=None,
                           help="Specify a shutdown timeout in seconds")
        if signal:
            p.add_argument("-s", "--signal", default="SIGKILL",
                           help='SIGNAL to send to the container')
        _services(p)

    async def run(ctx: Context) -> int:
        args = ctx.args
        runner = runner_of(ctx)
        order = runner.project.order(args.services)
        if name in ("stop", "pause", "kill"):
            order.reverse()
        by_service = {s: await runner.containers(all=True, services=[s]) for s in order}
        for service in order:
            for container in by_service[service]:
                state = container.state
                if (name == "start" and state.running) or (name in ("stop", "kill", "pause") \
                        and not state.running) or (name == "unpause" and \
                        state.status.value != "paused"):
                    continue
                runner.progress("Container", container.name, doing)
                if name == "start":
                    await ctx.engine.containers.start(container.id)
                elif name == "stop":
                    await ctx.engine.containers.stop(container.id, args.timeout)
                elif name == "restart":
                    await ctx.engine.containers.restart(container.id, args.timeout)
                elif name == "kill":
                    await ctx.engine.containers.kill(container.id, parse_signal(args.signal))
                elif name == "pause":
                    await ctx.engine.containers.pause(container.id)
                else:
                    await ctx.engine.containers.unpause(container.id)
                runner.progress("Container", container.name, done)
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
    containers = await runner.containers(all=True, services=args.services)
    if args.stop:
        for container in containers:
            if container.state.running:
                runner.progress("Container", container.name, "Stopping")
                await ctx.engine.containers.stop(container.id)
                runner.progress("Container", container.name, "Stopped")
        containers = await runner.containers(all=True, services=args.services)
    doomed = [c for c in containers if not c.state.running]
    if not doomed:
        ctx.err.write("No stopped containers\n")
        return 0
    if not args.force:
        ctx.err.write(f"Going to remove {', '.join(c.name for c in doomed)}\n")
    for container in doomed:
        runner.progress("Container", container.name, "Removing")
        await ctx.engine.containers.remove(container.id, volumes=args.volumes)
        runner.progress("Container", container.name, "Removed")
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
    runner = runner_of(ctx, project)
    for service in args.services or sorted(project.services):
        spec = project.services[service]
        if not spec.get("image"):
            continue
        if not args.quiet:
            runner.progress("Image", str(spec["image"]), "Pulling")
        try:
            await ctx.engine.images.pull(str(spec["image"]))
        except Exception:
            if not args.ignore_pull_failures:
                raise
            continue
        if not args.quiet:
            runner.progress("Image", str(spec["image"]), "Pulled")
    return 0


def _b_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force-recreate", action="store_true", help="Recreate containers even if "
                   "their configuration and image haven't changed")
    p.add_argument("--no-recreate", action="store_true", help="If containers already exist, "
                   "don't recreate them")
    p.add_argument("--remove-orphans", action="store_true", help="Remove containers for "
                   "services not defined in the Compose file")
    _services(p)


async def cmd_create(ctx: Context) -> int:
    args = ctx.args
    await runner_of(ctx).up(UpOptions(services=args.services, force_recreate=args.force_recreate,
                                      no_recreate=args.no_recreate, start=False,
                                      remove_orphans=args.remove_orphans))
    return 0


COMMANDS = [
    Command("up", "Create and start containers", _b_up, cmd_up, "[SERVICE...]"),
    Command("down", "Stop and remove containers, networks", _b_down, cmd_down),
    Command("create", "Creates containers for a service", _b_create, cmd_create, "[SERVICE...]"),
    *(_verb(n, doing, done, timeout=n in ("stop", "restart"), signal=n == "kill")
      for n, doing, done in (("start", "Starting", "Started"), ("stop", "Stopping", "Stopped"),
                             ("restart", "Restarting", "Started"), ("kill", "Killing", "Killed"),
                             ("pause", "Pausing", "Paused"), ("unpause", "Unpausing",
                                                              "Unpaused"))),
    Command("rm", "Removes stopped service containers", _b_rm, cmd_rm, "[SERVICE...]"),
    Command("pull", "Pull service images", _b_pull, cmd_pull, "[SERVICE...]"),
]
