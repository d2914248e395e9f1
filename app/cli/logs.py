"""skiff logs: a container's output, its tail, time window and follow."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from app.cli.command import Context
from app.cli.logstream import LogWriter, print_logs
from app.cli.options import UsageError, parse_time


def _tail(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "-n, --tail" flag: use a number '
                         'or "all"') from None
    return None if value < 0 else value


async def cmd_logs(ctx: Context) -> int:
    args = ctx.args
    tail = _tail(args.tail)
    now = time.time()
    since_ns = parse_time(args.since, "--since", now) if args.since else None
    until_ns = parse_time(args.until, "--until", now) if args.until else None
    await ctx.engine.containers.get(args.container)  # a clear error before any output
    follow = args.follow and (until_ns is None or until_ns > time.time_ns())
    writer = LogWriter(ctx.out_bytes, ctx.err_bytes, timestamps=args.timestamps)
    async with writer:
        # The engine filters too (cheaper on long logs); a microsecond of margin covers
        # its float parsing, and print_logs applies the exact bounds.
        window: dict[str, str] = {}
        if since_ns is not None:
            window["since"] = f"{max(0, since_ns - 1000) / 1e9:.6f}"
        if until_ns is not None:
            window["until"] = f"{(until_ns + 1000) / 1e9:.6f}"
        lines = ctx.engine.containers.logs(args.container, follow=follow, tail=tail, **window)
        if follow and until_ns is not None:
            # Stop following at --until even if no line arrives after it.
            remaining = max(0.0, until_ns / 1e9 - time.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await print_logs(writer, lines, since_ns=since_ns, until_ns=until_ns)
        else:
            await print_logs(writer, lines, since_ns=since_ns, until_ns=until_ns)
    return 0



def build_logs(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--follow", action="store_true", help="Follow log output")
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    p.add_argument("-n", "--tail", default="all",
                   help='Number of lines to show from the end of the logs (default "all")')
    p.add_argument("--since", default="",
                   help="Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative "
                   "(e.g. 42m for 42 minutes)")
    p.add_argument("--until", default="",
                   help="Show logs before a timestamp or relative time")
    p.add_argument("--details", action="store_true", help="Show extra details")
    p.add_argument("container", metavar="CONTAINER")
