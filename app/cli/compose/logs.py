"""``skiff compose logs`` and attached ``up``: every service's log, each line prefixed.

Lines carry Compose's prefix (``web-1  | ``), padded to the longest, in one
colour per container on a terminal. Without ``-f`` the logs are merged in time
order; with it, lines are printed as they come.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import sys
from collections.abc import Sequence
from typing import Any

from app.cli.command import Command, Context
from app.cli.compose.project import runner_of
from app.cli.options import UsageError
from engine import COMPOSE_NUMBER as NUMBER
from engine import COMPOSE_SERVICE as SERVICE
from engine import Runner, format_rfc3339, rfc3339_ns

__all__ = ["COMMANDS", "follow_project"]

_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


class Prefixed:
    def __init__(self, ctx: Context, names: Sequence[str], colour: bool, prefix: bool = True,
                 timestamps: bool = False) -> None:
        self.out = ctx.out
        width = max((len(n) for n in names), default=0)
        self.prefixes = {}
        for n, name in enumerate(names):
            text = f"{name.ljust(width)}  | " if prefix else ""
            if colour and prefix:
                text = f"\x1b[{_COLOURS[n % len(_COLOURS)]}m{text}\x1b[0m"
            self.prefixes[name] = text
        self.timestamps = timestamps

    def write(self, name: str, line: Any) -> None:
        text = line.data.decode(errors="replace")
        if self.timestamps:
            ns = rfc3339_ns(line.time)
            text = f"{format_rfc3339(ns) if ns is not None else line.time} {text}"
        self.out.write(f"{self.prefixes.get(name, '')}{text}\n")

    def say(self, name: str, text: str) -> None:
        self.out.write(f"{self.prefixes.get(name, '')}{text}\n")
        self.out.flush()


def _short(container: Any) -> str:
    labels = container.config.labels
    return f"{labels.get(SERVICE, container.name)}-{labels.get(NUMBER, '1')}"


async def follow_project(ctx: Context, runner: Runner, ids: Sequence[str],
                         until_exit: bool = False, tail: int | None = None,
                         timestamps: bool = False, prefix: bool = True,
                         colour: bool | None = None) -> int:
    containers = [await ctx.engine.containers.get(i) for i in ids]
    names = {c.id: _short(c) for c in containers}
    use_colour = sys.stdout.isatty() if colour is None else colour
    printer = Prefixed(ctx, list(names.values()), use_colour, prefix, timestamps)
    if until_exit:
        ctx.out.write(f"Attaching to {', '.join(names.values())}\n")
        ctx.out.flush()

    async def one(container_id: str) -> None:
        async for line in ctx.engine.containers.logs(container_id, follow=True, tail=tail):
            printer.write(names[container_id], line)
            ctx.out.flush()
        if until_exit:
            state = (await ctx.engine.containers.get(container_id)).state
            printer.say(names[container_id], f"exited with code {state.exit_code}")

    tasks = [asyncio.create_task(one(i)) for i in names]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return 0


def _b_logs(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--follow", action="store_true", help="Follow log output")
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    p.add_argument("-n", "--tail", default="all",
                   help="Number of lines to show from the end of the logs for each container")
    p.add_argument("--no-color", action="store_true", help="Produce monochrome output")
    p.add_argument("--no-log-prefix", action="store_true",
                   help="Don't print prefix in logs")
    p.add_argument("services", nargs="*", metavar="SERVICE")


async def cmd_logs(ctx: Context) -> int:
    args = ctx.args
    if args.tail != "all" and not args.tail.lstrip("-").isdigit():
        raise UsageError(f'invalid argument "{args.tail}" for "-n, --tail" flag: use a number '
                         'or "all"')
    tail = None if args.tail == "all" or int(args.tail) < 0 else int(args.tail)
    runner = runner_of(ctx)
    containers = await runner.containers(all=True, services=args.services)
    colour = False if args.no_color else None
    if args.follow:
        return await follow_project(ctx, runner, [c.id for c in containers], tail=tail,
                                    timestamps=args.timestamps, prefix=not args.no_log_prefix,
                                    colour=colour)
    names = {c.id: _short(c) for c in containers}
    printer = Prefixed(ctx, list(names.values()),
                       sys.stdout.isatty() if colour is None else colour,
                       not args.no_log_prefix, args.timestamps)
    streams = []
    for container in containers:
        lines = [(rfc3339_ns(line.time) or 0, n, container.id, line) for n, line in
                 enumerate([x async for x in ctx.engine.containers.logs(container.id, tail=tail)])]
        streams.append(lines)
    for _, _, container_id, line in heapq.merge(*streams, key=lambda item: item[:2]):
        printer.write(names[container_id], line)
    return 0


COMMANDS = [Command("logs", "View output from containers", _b_logs, cmd_logs, "[SERVICE...]")]
