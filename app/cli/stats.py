"""skiff stats: containers' resource use, streamed or one sample (--no-stream)."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from app.cli.command import Context
from app.cli.output import Formatter
from engine import bytes_size, human_size

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


async def cmd_stats(ctx: Context) -> int:
    args = ctx.args
    formatter = Formatter(args.format or STATS_FORMAT, STATS_HEADERS)
    refs: list[str] | None = list(args.containers) or None
    if refs:
        for ref in refs:
            await ctx.engine.containers.get(ref)  # one clear error for a wrong name, first
    elif args.all:
        refs = [c.id for c in await ctx.engine.containers.list(all=True)]
    tty = ctx.out.isatty()
    samples = 0
    stream = ctx.engine.stats.stream(refs, interval=1.0)
    try:
        async for batch in stream:
            samples += 1
            if args.no_stream and samples < 2:
                continue  # the first sample has no CPU figure yet: docker shows the second
            labels = dict(zip([s.id for s in batch], args.containers or [], strict=False))
            lines = formatter.render(stats_row(s, labels.get(s.id, ""), not args.no_trunc)
                                     for s in batch)
            if tty and not args.no_stream:
                ctx.out.write("\x1b[2J\x1b[H")
            ctx.out.write("".join(line + "\n" for line in lines))
            ctx.out.flush()
            if args.no_stream:
                break
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
