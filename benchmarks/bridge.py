"""What the default bridge network adds to a container's life, in the engine and end to end.

    .venv/bin/python benchmarks/bridge.py [--runs 30] [--only engine,cli] [--against DIR]

engine: one engine with its helper running (a lingering one, as a user's engines
find it, which keeps spare sandboxes: engine/helper/network/spares.py) creates,
starts, waits for and removes ``busybox true`` with ``--network none`` and with
the default bridge network, alternately, round by round (noise hits both alike);
it prints the median of each step and of the whole, for each, and what the
bridge adds.
cli: ``skiff run --rm busybox true`` against the same with ``--network none``,
alternately, as ``make install`` installs skiff, with one helper lingering
between commands (benchmarks/cli.py's set-up). Issue 16's target: the bridge
adds at most 20 ms. Runs on a private SKIFF_ROOT, cgroup parent and network
names. ``--against DIR`` times the skiff of another checkout (a ``git worktree``
of an older commit, say) in the same rounds, in a world of its own. Besides the
medians' difference it prints the median of each round's difference (bridge
minus none, one right after the other), which the load moves less. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.cli import installed_skiff, other_world, timed  # noqa: E402
from benchmarks.sleepers import busybox_world  # noqa: E402

STEPS = ("create", "start", "run", "remove", "total")  # run: from started to exited
MODES = {"none": "none", "bridge": "default"}


async def measure(runs: int) -> dict[str, dict[str, list[float]]]:
    from engine import ContainerConfig, Engine

    times: dict[str, dict[str, list[float]]] = {m: {s: [] for s in STEPS} for m in MODES}
    os.environ["SKIFF_HELPER_IDLE"] = "10"  # a helper as a user's engines find it: lingering
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


def end_to_end(work: Path, runs: int, archive: Path, against: Path | None = None) -> None:
    os.environ["SKIFF_HELPER_IDLE"] = "10"  # as a user's commands find it: one lingers
    sides: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "this": ([*installed_skiff(work), "run", "--rm"], None)}
    if against is not None:
        other, env = other_world(work, against.resolve(), archive)
        sides[f"against {against.name}"] = ([*other, "run", "--rm"], env)
    found: dict[str, dict[str, list[float]]] = {side: {"bridge": [], "none": []}
                                                for side in sides}
    try:
        for round_ in range(runs + 1):  # the first starts the helpers, makes the bridges
            for side, (run, env) in sides.items():
                for mode, options in (("bridge", []), ("none", ["--network", "none"])):
                    wall = timed([*run, *options, "busybox", "true"], env=env)[0]
                    if round_:
                        found[side][mode].append(wall * 1000)
    finally:
        for _, env in sides.values():
            if env is not None:  # the other world's bridge and rules (ours: private_world)
                _teardown(env)
    print("\nskiff run --rm busybox true, wall (median ms)")
    for side, times in found.items():
        bridge, none = (statistics.median(times[m]) for m in ("bridge", "none"))
        paired = statistics.median(b - n for b, n in zip(times["bridge"], times["none"],
                                                         strict=True))
        print(f"{side:<22} bridge {bridge:6.1f}, none {none:6.1f}, added {bridge - none:+6.1f}"
              f" (each round's difference: median {paired:+6.1f})")


def _teardown(env: dict[str, str]) -> None:
    from engine.helper.network.networking import Networking

    root = Path(env["SKIFF_ROOT"]) / "helper"
    if (root / "network").exists():
        Networking(root / "network", lambda cid: root / "users" / "0" / "containers" / cid,
                   uid=0, table=env["SKIFF_NET_TABLE"],
                   bridge_prefix=env["SKIFF_NET_PREFIX"]).teardown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", default="engine,cli", help="engine, cli or both")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="cli: also time the skiff of this checkout (another commit's), "
                             "in a world of its own, in the same rounds")
    options = parser.parse_args()
    only = set(options.only.split(","))
    with busybox_world("bridge") as archive:
        if "engine" in only:
            report(asyncio.run(measure(options.runs)))
        if "cli" in only:
            end_to_end(archive.parent, options.runs, archive, options.against)
    return 0


if __name__ == "__main__":
    sys.exit(main())
