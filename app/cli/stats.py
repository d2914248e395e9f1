"""skiff stats: containers' resource use, streamed or one sample (--no-stream)."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Coroutine

from app.cli.command import Context
from app.cli.output import Formatter
from engine import Reader, bytes_size, human_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATS_FORMAT = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
                "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}")
STATS_HEADERS = {
    "Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}


def stats_row(stats: Any, label: str = "", trunc: bool = True) -> dict[str, str]:
    limit = stats.memory_limit or 0
    mem_percent = stats.memory_usage / limit * 100 if limit else 0.0
    return {
        "Container": label or stats.id[:12],
        "ID": stats.id[:12] if trunc else stats.id,
        "Name": stats.name,
        "CPUPerc": f"{stats.cpu_percent:.2f}%",
        "MemUsage": f"{bytes_size(stats.memory_usage)} / {bytes_size(limit)}",
        "MemPerc": f"{mem_percent:.2f}%",
        "NetIO": f"{human_size(stats.net_rx)} / {human_size(stats.net_tx)}",
        "BlockIO": f"{human_size(stats.block_read)} / {human_size(stats.block_write)}",
        "PIDs": str(stats.pids),
    }


def cmd_stats(ctx: Context) -> int | Coroutine[Any, Any, int]:
    """``--no-stream`` samples in plain calls (engine.Reader), without an event loop:
    it costs a third of the CPU it did through the engine (README's figures).
    Streaming returns a coroutine, which opens the engine."""
    args = ctx.args
    if not args.no_stream:
        return _stream(ctx)
    with Reader() as reader:
        if args.containers:  # a wrong name is the one error, before any output
            containers = [reader.container(ref) for ref in args.containers]
        else:
            containers = reader.containers(all=args.all)
        sampler = reader.sampler()
        for container in containers:
            sampler.prime(container)
        # The first sample has no CPU share yet: docker shows the second, a second later.
        time.sleep(1.0)
        batch = [sampler.sample(container) for container in containers]
    _write(ctx, batch, tty=False)
    return 0


def _write(ctx: Context, batch: list[Any], *, tty: bool) -> None:
    args = ctx.args
    formatter = Formatter(args.format or STATS_FORMAT, STATS_HEADERS)
    labels = dict(zip([s.id for s in batch], args.containers or [], strict=False))
    lines = formatter.render(stats_row(s, labels.get(s.id, ""), not args.no_trunc)
                             for s in batch)
    if tty:
        ctx.out.write("\x1b[2J\x1b[H")
    ctx.out.write("".join(line + "\n" for line in lines))
    ctx.out.flush()


async def _stream(ctx: Context) -> int:
    from engine import Engine

    args = ctx.args
    async with Engine() as engine:
        refs: list[str] | None = list(args.containers) or None
        if refs:
            for ref in refs:
                await engine.containers.get(ref)  # one clear error for a wrong name, first
        elif args.all:
            refs = [c.id for c in await engine.containers.list(all=True)]
        tty = ctx.out.isatty()
        stream = engine.stats.stream(refs, interval=1.0)
        try:
            async for batch in stream:
                _write(ctx, batch, tty=tty)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
    return 0


def build_stats(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Show all containers (default shows just running)")
    p.add_argument("--no-stream", action="store_true",
                   help="Disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate output")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
