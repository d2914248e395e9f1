"""The WORK of the read commands, as a pre-imported CLI fork server runs them.

    .venv/bin/python benchmarks/reads.py [--runs 15] [--containers 200] [--running 0]
                                         [--profile DIR] [--cold] [--rehearse]

A process that preloaded what the CLI's fork server does (app/cli/forkserver.py;
``--cold``: only ``app.cli.main``; ``--rehearse``: and ran ``Reader.rehearse()``)
forks one child a command, which calls ``main([...])`` with its output to /dev/null
and ``_exit``s, as the server's children do. Its CPU (user + system, from wait4),
page faults and wall are what the command costs past start-up. With one container
(``talker``, exited, 100 lines of log), then with ``--containers`` created ones
beside it, it times ``ps``, ``ps -a``, ``inspect talker``, ``logs --tail 10
talker`` and ``images``; with ``--running N``, N containers sleeping and
``stats --no-stream`` of them (its one-second wait is wall, not CPU).
``--profile DIR`` also writes each command's cProfile, summed over the runs
(``python -m pstats DIR/ps.prof``). Needs root and skopeo; a private world.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

READS = {"ps": ["ps"], "ps -a": ["ps", "-a"], "inspect": ["inspect", "talker"],
         "logs --tail 10": ["logs", "--tail", "10", "talker"], "images": ["images"]}
STATS = {"stats --no-stream": ["stats", "--no-stream"]}
ALL = {**READS, **STATS}


def in_child(argv: Sequence[str] | None, profile: Path | None = None
             ) -> tuple[float, float, int]:
    """main(argv) in a forked child (None: nothing, the fork's own cost); its wall and
    CPU seconds and its page faults (pages it wrote to, the parent's copied first)."""
    from app.cli.main import main

    sys.stdout.flush()
    sys.stderr.flush()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        if argv is None:
            os._exit(0)
        status = 99
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            if profile is None:
                status = main(list(argv))
            else:
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                status = main(list(argv))
                profiler.disable()
                profiler.dump_stats(profile)
            sys.stdout.flush()
        except BaseException:
            traceback.print_exc()
        os._exit(status)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"skiff {' '.join(argv)} failed ({os.waitstatus_to_exitcode(status)})")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_minflt


def measure(title: str, commands: dict[str, list[str]], runs: int,
            profiles: Path | None) -> None:
    print(f"\n{title}")
    print(f"{'command':<22}{'CPU median':>11}{'best':>8}{'wall median':>13}{'faults':>8}")
    timings: dict[str, list[tuple[float, float, int]]] = {label: [] for label in commands}
    timings["(fork and _exit)"] = []
    for _ in range(runs):  # round by round: the machine's noise hits every command
        for label, argv in commands.items():
            timings[label].append(in_child(argv))
        timings["(fork and _exit)"].append(in_child(None))
    for label, found in timings.items():
        cpu = [t[1] * 1000 for t in found]
        wall = statistics.median(t[0] for t in found) * 1000
        faults = statistics.median(t[2] for t in found)
        print(f"{label:<22}{statistics.median(cpu):>9.1f}ms{min(cpu):>6.1f}ms{wall:>11.1f}ms"
              f"{faults:>8.0f}")
    sys.stdout.flush()
    if profiles is None:
        return
    profiles.mkdir(parents=True, exist_ok=True)
    tag = title.split()[0]
    for label, argv in commands.items():
        parts = []
        for run in range(min(runs, 5)):
            part = profiles / f"part-{run}.prof"
            in_child(argv, profile=part)
            parts.append(str(part))
        stats = pstats.Stats(*parts)
        target = profiles / f"{tag}-{label.replace(' ', '').replace('-', '_')}.prof"
        stats.dump_stats(target)
        for part in parts:
            os.unlink(part)


def make(argv: list[str], count: int) -> None:
    for _ in range(count):
        in_child(argv)


def measuring(options: argparse.Namespace, title: str, commands: dict[str, list[str]]
              ) -> None:
    """What a fork server's process does, in a fresh one: only what it imports."""
    import subprocess

    subprocess.run([sys.executable, __file__, "--measure", title, "--runs", str(options.runs),
                    *(["--profile", str(options.profile)] if options.profile else []),
                    *(["--cold"] if options.cold else []),
                    *(["--rehearse"] if options.rehearse else []), *commands], check=True)


def measure_here(options: argparse.Namespace) -> None:
    """--measure TITLE LABEL...: preload (unless --cold), freeze, time each."""
    import app.cli.main  # noqa: F401 - what the fork server imports

    commands = {label: ALL[label] for label in options.labels}
    if not options.cold:
        from app.cli.forkserver import preload

        preload()
        if options.rehearse:
            from engine import Reader

            Reader.rehearse()
    gc.collect()
    gc.freeze()  # as the server does: its pages stay shared with its children
    runs = options.runs if "stats --no-stream" not in commands else max(3, options.runs // 3)
    measure(options.measure, commands, runs, options.profile)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--running", type=int, default=0,
                        help="containers sleeping for stats --no-stream (0: not measured)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="a directory for each command's cProfile")
    parser.add_argument("--cold", action="store_true",
                        help="import only app.cli.main beforehand, not the commands' modules")
    parser.add_argument("--rehearse", action="store_true",
                        help="the server also runs engine.Reader.rehearse() before forking")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("labels", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        measure_here(options)
        return 0
    if os.geteuid() != 0:
        print("run this benchmark as root", file=sys.stderr)
        return 1
    from benchmarks.sleepers import busybox_world

    with busybox_world("reads"):
        os.environ["SKIFF_HELPER_IDLE"] = "10"  # one helper lingering, as a user's
        try:
            make(["run", "--name", "talker", "--network", "none", "busybox", "seq", "1", "100"],
                 1)
            measuring(options, "1 container (talker, exited)", READS)
            if options.containers:
                make(["create", "--network", "none", "busybox", "true"], options.containers)
                measuring(options, f"{options.containers + 1} containers (created, and talker)",
                          READS)
            if options.running:
                make(["run", "-d", "--network", "none", "busybox", "sleep", "3600"],
                     options.running)
                measuring(options, f"{options.running} running", STATS)
        finally:
            left = ids()
            if left:
                make(["rm", "-f", *left], 1)
    return 0


def ids() -> list[str]:
    """Every container's ID, read as ps -aq would."""
    from engine import Reader

    with Reader() as reader:
        return [c.id for c in reader.containers(all=True)]


if __name__ == "__main__":
    sys.exit(main())
