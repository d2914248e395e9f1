"""Start-up benchmark: what the engine and its helper cost before they do anything.

    .venv/bin/python benchmarks/startup.py [--runs 20] [--against CHECKOUT]

helper: the privileged helper started as the engine starts it (``python -m engine.helper``
with a socketpair as its standard input, ``--idle 0``), timed from the spawn to its
answer to the hello and then to a ``ping``, with the CPU time of its whole life (its
imports, its zygote's fork, its exit when we hang up; from wait4). This is what the
first command after idle and a cold pull wait for.
engine: a fresh interpreter's ``import asyncio; from engine import Engine; Engine()``
(what a CLI started without its server pays before its first call), wall and CPU time,
measured inside it; and the part after asyncio (the window's: qasync imported it already).

``--against CHECKOUT`` times another checkout's code (its helper too) in the same rounds,
alternating, each round in an order turned by one, and prints the ratios: a before and
after that meet the same load. Bytecode is compiled for both first (this environment
may set PYTHONDONTWRITEBYTECODE). Private storage roots and cgroup parent; needs root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
_HEADER = struct.Struct(">I")
_ENGINE = """
import json, time
wall, cpu = time.perf_counter(), time.process_time()
import asyncio
marks = [time.perf_counter() - wall, time.process_time() - cpu]
from engine import Engine
Engine()
print(json.dumps(marks + [time.perf_counter() - wall, time.process_time() - cpu]))
"""


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return _HEADER.pack(len(body)) + body


def _read_frame(sock: socket.socket) -> dict[str, object]:
    data = b""
    while len(data) < _HEADER.size or len(data) < _HEADER.size + _HEADER.unpack_from(data)[0]:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise RuntimeError("the helper hung up (see its error above)")
        data += chunk
    return dict(json.loads(data[_HEADER.size:]))


def _env(checkout: Path, root: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(checkout), SKIFF_ROOT=str(root),
                SKIFF_HELPER_IDLE="0")


def helper(checkout: Path, root: Path, parent: str) -> dict[str, float]:
    """Seconds from the spawn to the hello's answer and the ping's, and CPU seconds."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.helper", "--root", str(root / "helper"),
         "--cgroup-parent", parent, "--idle", "0"],
        stdin=theirs.fileno(), stdout=subprocess.DEVNULL, close_fds=True,
        env=_env(checkout, root), cwd="/", start_new_session=True)
    theirs.close()
    try:
        ours.sendall(_frame({"hello": 2}))
        _read_frame(ours)
        hello = time.perf_counter() - start
        ours.sendall(_frame({"id": 1, "verb": "ping", "args": {}}))
        reply = _read_frame(ours)
        ping = time.perf_counter() - start
        if "result" not in reply:
            raise RuntimeError(f"the helper refused a ping: {reply}")
    finally:
        ours.close()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped above
    return {"hello": hello, "ping": ping, "cpu": usage.ru_utime + usage.ru_stime}


def engine(checkout: Path, root: Path) -> dict[str, float]:
    """``import asyncio; from engine import Engine; Engine()`` in a fresh interpreter: wall
    and CPU seconds, all of it and after asyncio."""
    out = subprocess.run([sys.executable, "-c", _ENGINE], env=_env(checkout, root),
                         cwd=checkout, check=True, capture_output=True, text=True).stdout
    asyncio_wall, asyncio_cpu, wall, cpu = json.loads(out)
    return {"wall": wall, "cpu": cpu, "after asyncio": wall - asyncio_wall,
            "cpu after asyncio": cpu - asyncio_cpu}


def measure(checkouts: dict[str, Path], runs: int, work: Path) -> dict[str, dict[str, list[float]]]:
    parent = f"skiff-bench-{os.getpid()}"
    results: dict[str, dict[str, list[float]]] = {name: {} for name in checkouts}
    names = list(checkouts)
    for round_ in range(runs + 1):  # the first round warms the page cache: not counted
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            root = work / name
            figures = {f"helper {k}": v for k, v in helper(checkouts[name], root, parent).items()}
            figures.update({f"engine {k}": v for k, v in engine(checkouts[name], root).items()})
            if round_:
                for key, value in figures.items():
                    results[name].setdefault(key, []).append(value)
    cgroup = Path("/sys/fs/cgroup") / parent
    if cgroup.is_dir():
        cgroup.rmdir()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="another checkout to time in the same rounds")
    args = parser.parse_args()
    checkouts = {"this": REPO_ROOT}
    if args.against:
        checkouts["against"] = args.against.resolve()
    for checkout in checkouts.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", "engine"], cwd=checkout,
                       check=True, stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="skiff-startup-"))
    try:
        results = measure(checkouts, args.runs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.runs} rounds, load average {os.getloadavg()[0]:.1f}; medians (best), ms")
    keys = list(results["this"])
    print(f"{'':22}" + "".join(f"{name:>18}" for name in checkouts)
          + ("   this/against" if args.against else ""))
    for key in keys:
        row = f"{key:22}"
        medians = {name: statistics.median(results[name][key]) for name in checkouts}
        for name in checkouts:
            row += f"{medians[name] * 1000:10.1f} ({min(results[name][key]) * 1000:5.1f})"
        if args.against:
            row += f"{medians['this'] / medians['against']:15.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
