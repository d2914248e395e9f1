"""``skiff compose exec`` (into a service's container) and ``run`` (a one-off container)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import secrets

from app.cli.attach import interact
from app.cli.command import Command, Context
from app.cli.compose.project import runner_of
from app.cli.createflags import console_size
from app.cli.options import UsageError, parse_env, parse_labels, parse_publish
from engine import SkiffError, UpOptions, container_config, parse_volume

__all__ = ["COMMANDS"]


def _b_exec(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--detach", action="store_true",
                   help="Detached mode: Run command in the background")
    p.add_argument("-T", "--no-TTY", dest="no_tty", action="store_true",
                   help="Disable pseudo-TTY allocation")
    p.add_argument("-e", "--env", action="append", default=[], help="Set environment variables")
    p.add_argument("-u", "--user", default="", help="Run the command as this user")
    p.add_argument("-w", "--workdir", default="", help="Path to workdir directory for this "
                   "command")
    p.add_argument("--index", type=int, default=1, help="Index of the container if service has "
                   "multiple replicas")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS...]")


async def cmd_exec(ctx: Context) -> int:
    args = ctx.args
    if not args.command:
        raise UsageError('"skiff compose exec" requires at least 2 arguments.', 1)
    runner = runner_of(ctx)
    containers = [c for c in await runner.containers(all=False, services=[args.service])]
    if len(containers) < args.index:
        raise UsageError(f'service "{args.service}" is not running', 1)
    tty = not args.no_tty and os.isatty(ctx.stdin.fileno())
    rows, cols = console_size(ctx.out)  # the TTY's size before the process starts
    session = await ctx.engine.containers.exec(containers[args.index - 1].id, list(args.command),
                                               tty=tty,
                                    env=parse_env(args.env, ctx.environ), user=args.user,
                                    workdir=args.workdir, rows=rows, cols=cols)
    code = await interact(ctx, session, interactive=not args.detach, tty=tty)
    return 0 if code is None else code


def _b_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--detach", action="store_true",
                   help="Run container in background and print container ID")
    p.add_argument("--rm", action="store_true", help="Automatically remove the container when "
                   "it exits")
    p.add_argument("--name", default="", help="Assign a name to the container")
    p.add_argument("-T", "--no-TTY", dest="no_tty", action="store_true",
                   help="Disable pseudo-TTY allocation (default: auto-detected)")
    p.add_argument("-i", "--interactive", action="store_true", default=True,
                   help="Keep STDIN open even if not attached")
    p.add_argument("-e", "--env", action="append", default=[], help="Set environment variables")
    p.add_argument("-u", "--user", default="", help="Run as specified username or uid")
    p.add_argument("-w", "--workdir", default="", help="Working directory inside the container")
    p.add_argument("--entrypoint", default=None, help="Override the entrypoint of the image")
    p.add_argument("--no-deps", action="store_true", help="Don't start linked services")
    p.add_argument("-l", "--label", action="append", default=[],
                   help="Add or override a label")
    p.add_argument("-p", "--publish", action="append", default=[],
                   help="Publish a container's port(s) to the host")
    p.add_argument("-P", "--service-ports", action="store_true",
                   help="Run command with all service's ports enabled and mapped to the host")
    p.add_argument("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    p.add_argument("--use-aliases", action="store_true",
                   help="Use the service's network useAliases in the network(s) the container "
                   "connects to")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS...]")


async def cmd_run(ctx: Context) -> int:
    args = ctx.args
    runner = runner_of(ctx)
    project = runner.project
    if args.service not in project.services:
        raise UsageError(f"no such service: {args.service}", 1)
    if args.service_ports and args.publish:
        raise UsageError("--service-ports and --publish are incompatible", 1)
    deps = [d for d in project.order([args.service]) if d != args.service]
    if deps and not args.no_deps:
        await runner.up(UpOptions(services=deps))
    await runner.prepare([args.service])
    image_id = await runner.image_id(args.service)
    tty = not args.no_tty and os.isatty(ctx.stdin.fileno())
    config = container_config(project, args.service, image_id,
                              command=list(args.command) or None, oneoff=True,
                              use_aliases=args.use_aliases, service_ports=args.service_ports)
    env = [*config.env, *parse_env(args.env, ctx.environ)]
    config = dataclasses.replace(
        config, env=env, tty=tty, open_stdin=args.interactive and not args.detach,
        console_size=console_size(ctx.out),
        ports=[*config.ports, *(b for text in args.publish for b in parse_publish(text))],
        mounts=[*config.mounts, *(parse_volume(text) for text in args.volume)],
        labels={**config.labels, **parse_labels(args.label)},
        user=args.user or config.user, working_dir=args.workdir or config.working_dir,
        entrypoint=([args.entrypoint] if args.entrypoint else [])
        if args.entrypoint is not None else config.entrypoint,
        auto_remove=args.rm)
    name = args.name or f"{project.name}-{args.service}-run-{secrets.token_hex(6)}"
    container = await ctx.engine.containers.create(config, name)
    if args.detach:
        await ctx.engine.containers.start(container.id)
        ctx.out.write(container.id + "\n")
        return 0
    session = await ctx.engine.containers.start_attached(container.id)
    code = await interact(ctx, session, interactive=config.open_stdin, tty=tty)
    if code is None:
        code = await ctx.engine.containers.wait(container.id)
    if args.rm:
        with contextlib.suppress(SkiffError):  # the engine's auto-remove took it first
            await ctx.engine.containers.remove(container.id, force=True)
    return code


COMMANDS = [
    Command("exec", "Execute a command in a running container", _b_exec, cmd_exec,
            "SERVICE COMMAND [ARGS...]"),
    Command("run", "Run a one-off command on a service", _b_run, cmd_run,
            "SERVICE [COMMAND] [ARGS...]"),
]
