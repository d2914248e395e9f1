"""skiff logs: a container's output, its tail, time window and follow."""

from __future__ import annotations

import argparse
import time
from collections.abc import Coroutine

from app.cli.command import Context, UsageError
from app.cli.linewriter import LineWriter
from engine import Reader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _tail(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "-n, --tail" flag: use a number '
                         'or "all"') from None
    return None if value < 0 else value


def cmd_logs(ctx: Context) -> int | Coroutine[Any, Any, int]:
    """What the log holds is read and written in plain calls (engine.Reader): no
    event loop, no asyncio. Only ``--follow`` returns a coroutine, which opens the
    engine to wait for what the container writes next."""
    args = ctx.args
    tail = _tail(args.tail)
    since_ns = until_ns = None
    if args.since or args.until:
        from app.cli.options import parse_time  # the engine's time rules: only when asked

        now = time.time()
        since_ns = parse_time(args.since, "--since", now) if args.since else None
        until_ns = parse_time(args.until, "--until", now) if args.until else None
    if args.follow and (until_ns is None or until_ns > time.time_ns()):
        return _follow(ctx, tail, since_ns, until_ns)
    with Reader() as reader:
        lines = reader.logs(args.container, tail=tail, since_ns=since_ns, until_ns=until_ns)
        writer = LineWriter(ctx.out_bytes, ctx.err_bytes, timestamps=args.timestamps)
        for line in lines:
            writer.write(line)
            if writer.count % 256 == 0:
                writer.flush()  # a long log reaches a pipe as it is read
        writer.flush()
    return 0


async def _follow(ctx: Context, tail: int | None, since_ns: int | None,
                  until_ns: int | None) -> int:
    import asyncio
    import contextlib

    from app.cli.logstream import LogWriter, print_logs
    from engine import Engine

    args = ctx.args
    async with Engine() as engine:
        await engine.containers.get(args.container)  # a clear error before any output
        writer = LogWriter(ctx.out_bytes, ctx.err_bytes, timestamps=args.timestamps)
        async with writer:
            # The engine filters too (cheaper on long logs); a microsecond of margin
            # covers its float parsing, and print_logs applies the exact bounds.
            window: dict[str, str] = {}
            if since_ns is not None:
                window["since"] = f"{max(0, since_ns - 1000) / 1e9:.6f}"
            if until_ns is not None:
                window["until"] = f"{(until_ns + 1000) / 1e9:.6f}"
            lines = engine.containers.logs(args.container, follow=True, tail=tail, **window)
            if until_ns is not None:
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
