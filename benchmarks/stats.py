"""What reading stats costs: 100 running containers sampled once a second.

    .venv/bin/python benchmarks/stats.py [--containers 100] [--seconds 10]

Starts the containers (busybox `sleep`, no network, on a private SKIFF_ROOT),
runs the engine's stats stream, and prints the CPU time this process spent
per second of sampling, as a share of one core. Target: under 10 %. Then it
runs ``skiff stats --no-stream`` of them all and prints the CPU time that
command took (median of 5; target: under 100 ms).
Removes everything afterwards. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncGenerator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sleepers import busybox_world, remove_all, start_sleepers  # noqa: E402


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cli_cpu() -> float:
    """CPU seconds (user + system) of one ``skiff stats --no-stream``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "app.cli", "stats", "--no-stream"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


async def measure(count: int, seconds: float) -> None:
    from engine import Engine

    async with Engine() as engine:
        ids = await start_sleepers(engine, count)
        try:
            stream = engine.stats.stream(interval=1.0)
            await anext(stream)  # the first round only sets the baselines
            cpu0, wall0 = _cpu_seconds(), time.monotonic()
            rounds = 0
            sampled = 0
            while time.monotonic() - wall0 < seconds:
                batch = await anext(stream)
                rounds += 1
                sampled = len(batch)
            cpu, wall = _cpu_seconds() - cpu0, time.monotonic() - wall0
            if isinstance(stream, AsyncGenerator):  # it is one, typed as an iterator
                await stream.aclose()
            print(f"{'containers sampled per round':<40}{sampled:>10}")
            print(f"{'rounds':<40}{rounds:>10}")
            print(f"{'CPU time per round':<40}{cpu / rounds * 1000:>8.1f}ms")
            print(f"{'share of one core (target < 10 %)':<40}{cpu / wall * 100:>9.1f}%")
            cli = statistics.median(_cli_cpu() for _ in range(5))
            print(f"{'skiff stats --no-stream CPU (< 100 ms)':<40}{cli * 1000:>8.1f}ms")
        finally:
            await remove_all(engine, ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("run this benchmark as root", file=sys.stderr)
        return 1
    with busybox_world("stats"):
        asyncio.run(measure(options.containers, options.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
