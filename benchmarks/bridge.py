"""What the default bridge network adds to a container's life, in the engine.

    .venv/bin/python benchmarks/bridge.py [--runs 30]

One engine with its helper running (as ``skiff run`` finds a lingering one)
creates, starts, waits for and removes ``busybox true`` with ``--network none``
and with the default bridge network, alternately, round by round (noise hits
both alike). It prints the median of each step and of the whole, for each, and
what the bridge adds (issue 16's target: at most 20 ms). The CLI's own start-up
is the same for both and left out (benchmarks/cli.py measures it end to end).
Runs on a private SKIFF_ROOT, cgroup parent and network names. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sleepers import busybox_world  # noqa: E402

STEPS = ("create", "start", "run", "remove", "total")  # run: from started to exited
MODES = {"none": "none", "bridge": "default"}


async def measure(runs: int) -> dict[str, dict[str, list[float]]]:
    from engine import ContainerConfig, Engine

    times: dict[str, dict[str, list[float]]] = {m: {s: [] for s in STEPS} for m in MODES}
    async with Engine() as engine:
        for round_ in range(runs + 1):
            for mode, network in MODES.items():
                marks = [time.perf_counter()]
                container = await engine.containers.create(ContainerConfig(
                    image="busybox", image_id="", cmd=["true"], network=network))
                marks.append(time.perf_counter())
                await engine.containers.start(container.id)
                marks.append(time.perf_counter())
                await engine.containers.wait(container.id)
                marks.append(time.perf_counter())
                await engine.containers.remove(container.id)
                marks.append(time.perf_counter())
                if round_:  # the first round starts the helper, makes the bridge, warms caches
                    for step, begin, end in zip(STEPS, marks, marks[1:], strict=False):
                        times[mode][step].append(end - begin)
                    times[mode]["total"].append(marks[-1] - marks[0])
    return times


def report(times: dict[str, dict[str, list[float]]]) -> None:
    print(f"{'step (median ms)':<18}{'none':>9}{'bridge':>9}{'added':>9}")
    for step in STEPS:
        none, bridge = (statistics.median(times[m][step]) * 1000 for m in MODES)
        print(f"{step:<18}{none:>9.1f}{bridge:>9.1f}{bridge - none:>+9.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    with busybox_world("bridge"):
        report(asyncio.run(measure(options.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
