"""How the desktop window holds up: launch, a log flood, memory, idle CPU.

    .venv/bin/python benchmarks/desktop.py [--containers 200] [--seconds 10]
                                           [--rate 100000] [--big-lines 10000000]
                                           [--launches 5] [--against CHECKOUT]

Prints, against the issue's targets:
- launch: process start to a painted window listing every container (a fresh
  ``python`` process, imports included, bytecode compiled beforehand as an
  install has it; offscreen when there is no display): the median of
  ``--launches`` launches, the machine being shared; with ``--against``, another
  checkout's window is launched in the same rounds, alternately, and the ratios
  of the medians printed;
- flood: the longest event-loop stall while the Logs tab follows a container
  that writes about 100,000 lines a second, for ``--seconds``, and the lines
  per second the view kept up with;
- memory: the window's RSS at idle and after the flood;
- idle CPU: the window's CPU use over 10 s with nothing happening;
- big log: opening a ``--big-lines`` log file until its last rows are painted.

With root, all of it runs against the real engine on a private SKIFF_ROOT (the
containers are removed afterwards). Without root, the launch and idle figures
are skipped and the flood is written to a log file by a separate process at
the same rate (the window-side work is identical: it follows a CRI file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"launch_s": 1.0, "max_stall_ms": 50.0, "rss_mb": 200.0, "idle_cpu_pct": 1.0}
COLLECTOR: Any = None  # a window child's GarbageCollector (utils/gcguard.py)


# -- the parent: set up, run the children, print ---------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--running", type=int, default=20,
                        help="how many of them run (sleep) meanwhile")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=100_000, help="flood lines per second")
    parser.add_argument("--big-lines", type=int, default=10_000_000)
    parser.add_argument("--launches", type=int, default=5,
                        help="launches timed (the median is the figure)")
    parser.add_argument("--against", metavar="CHECKOUT", type=Path,
                        help="a checkout of another commit (git worktree add) whose window "
                             "launches in the same rounds, alternately")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--arg", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # The bytecode an installed copy (and `make setup`) has: a launch that compiles
    # ~400 modules first took ~0.3 s more, whatever PYTHONDONTWRITEBYTECODE says.
    for checkout in (ROOT, args.against) if args.against else (ROOT,):
        subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "engine",
                        "benchmarks"], cwd=checkout, check=True)
    import shutil  # (here: a window child imports only what a launch does)
    import statistics
    import tempfile

    from benchmarks.desktopsetup import cleanup, prepare, start_flood, stop_flood, write_big_log

    work = Path(tempfile.mkdtemp(prefix="skiff-bench-desktop-"))
    from benchmarks.isolation import private_world

    world = private_world(work)  # storage, cgroups and network names of its own
    world.__enter__()
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    results: dict[str, Any] = {"platform": os.environ.get("QT_QPA_PLATFORM", "native")}
    engine_ok = os.geteuid() == 0 and shutil.which("umoci") and shutil.which("skopeo")
    try:
        if engine_ok:
            print(f"setting up {args.containers} containers on the real engine…", flush=True)
            asyncio.run(prepare(work, args.containers, args.running))
            results.update(run_child("launch", args, str(args.containers)))
            more, theirs = [], []
            for i in range(args.launches - 1):
                if args.against and i % 2:
                    theirs.append(run_child("launch", args, "quick", args.against))
                more.append(run_child("launch", args, "quick"))
                if args.against and not i % 2:
                    theirs.append(run_child("launch", args, "quick", args.against))
            if theirs:
                results["against_launches_s"] = sorted(m["launch_s"] for m in theirs)
                results["against_launch_s"] = statistics.median(
                    m["launch_s"] for m in theirs)
                results["against_launch_cpu_s"] = statistics.median(
                    m["launch_cpu_s"] for m in theirs)
            launches = [results["launch_s"], *(m["launch_s"] for m in more)]
            results["launches_s"] = sorted(launches)
            results["launch_s"] = statistics.median(launches)
            results["launch_cpu_s"] = statistics.median(
                [results["launch_cpu_s"], *(m["launch_cpu_s"] for m in more)])
            print("flooding…", flush=True)
            asyncio.run(start_flood(args.rate))
            results.update(run_child("flood", args, "engine"))
            asyncio.run(stop_flood())
        else:
            results["launch"] = "skipped: needs root (the engine's helper) and umoci/skopeo"
            log = work / "flood.log"
            log.write_bytes(b"")
            writer = subprocess.Popen([sys.executable, __file__, "--child", "writer",
                                       "--arg", str(log), "--rate", str(args.rate),
                                       "--seconds", str(args.seconds + 30)])
            try:
                results.update(run_child("flood", args, str(log)))
            finally:
                writer.terminate()
                writer.wait()
        if args.big_lines:
            big = work / "big.log"
            print(f"writing a {args.big_lines:,}-line log…", flush=True)
            write_big_log(big, args.big_lines)
            results.update(run_child("bigfile", args, str(big)))
            big.unlink()
    finally:
        if engine_ok:
            asyncio.run(cleanup(work))
        world.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
    report(results, args)
    return 0


def run_child(mode: str, args: argparse.Namespace, arg: str,
              checkout: Path = ROOT) -> dict[str, Any]:
    """A window child of this checkout's (or ``checkout``'s) benchmark."""
    env = dict(os.environ, SKIFF_BENCH_T0=repr(time.time()))
    script = checkout / "benchmarks" / "desktop.py"
    done = subprocess.run([sys.executable, str(script), "--child", mode, "--arg", arg,
                           "--seconds", str(args.seconds), "--containers",
                           str(args.containers), "--big-lines", str(args.big_lines)],
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")
    import json

    line = done.stdout.strip().splitlines()[-1]
    return dict(json.loads(line))


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    def verdict(value: float, target: float) -> str:
        return "ok" if value <= target else "OVER TARGET"

    print()
    print(f"Skiff desktop benchmark ({results.get('platform')} platform)")
    if "launch_s" in results:
        print(f"  launch to painted window, {args.containers} containers: "
              f"{results['launch_s']:.3f} s   (target < 1 s: "
              f"{verdict(results['launch_s'], 1.0)}; median of "
              f"{', '.join(f'{t:.3f}' for t in results['launches_s'])}); "
              f"CPU {results['launch_cpu_s']:.3f} s")
        if "against_launch_s" in results:
            print(f"  the same of {args.against}, in the same rounds: "
                  f"{results['against_launch_s']:.3f} s (median of "
                  f"{', '.join(f'{t:.3f}' for t in results['against_launches_s'])}); CPU "
                  f"{results['against_launch_cpu_s']:.3f} s; this / that: wall "
                  f"{results['launch_s'] / results['against_launch_s']:.2f}, CPU "
                  f"{results['launch_cpu_s'] / results['against_launch_cpu_s']:.2f}")
        print(f"  RSS at idle:                  {results['rss_idle_mb']:.0f} MB "
              f"  (target < 200 MB: {verdict(results['rss_idle_mb'], 200)})")
        print(f"  idle CPU over 10 s:           {results['idle_cpu_pct']:.2f} %"
              f"   (target < 1 %: {verdict(results['idle_cpu_pct'], 1.0)})")
    else:
        print(f"  launch: {results.get('launch')}")
    if "max_stall_ms" in results:
        print(f"  flood ({results['flood_source']}): {results['lines_per_s']:,.0f} lines/s "
              f"written, view kept up at {results['shown_per_s']:,.0f} lines/s over "
              f"{args.seconds:g} s, using {results['flood_cpu_pct']:.0f} % of a core")
        print(f"  longest event-loop stall:     {results['max_stall_ms']:.1f} ms "
              f"(99th percentile {results['p99_stall_ms']:.1f} ms; target < 50 ms: "
              f"{verdict(results['max_stall_ms'], 50)}); the GUI thread ran "
              f"{results['max_stall_cpu_ms']:.1f} ms of it, the process "
              f"{results['max_stall_process_cpu_ms']:.1f} ms")
        print(f"  RSS after the flood:          {results['rss_flood_mb']:.0f} MB "
              f"  (target < 200 MB: {verdict(results['rss_flood_mb'], 200)})")
    if "big_open_s" in results:
        print(f"  open a {results['big_lines']:,}-line log ({results['big_mb']:.0f} MB): "
              f"{results['big_open_s']:.3f} s to its last rows painted")


# -- the children: one window each ------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    if args.child == "writer":
        return flood_writer(Path(args.arg), args.rate, args.seconds)
    from PySide6.QtWidgets import QApplication

    from app.desktop.utils.featurescan import skip_feature_scan

    skip_feature_scan()  # as main() does
    import qasync

    from app.desktop.utils.gcguard import GarbageCollector

    app = QApplication([sys.argv[0]])
    app.setQuitOnLastWindowClosed(False)
    collector = GarbageCollector(app)  # as main() does
    collector.start()
    global COLLECTOR
    COLLECTOR = collector  # open_window freezes it later
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    body = {"launch": child_launch, "flood": child_flood, "bigfile": child_bigfile}[args.child]
    with loop:
        result = loop.run_until_complete(body(app, args))
    import json  # (once measured: the window does not import it)

    print(json.dumps(result), flush=True)
    return 0


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 1e6


async def painted(widget: Any) -> None:
    """Resolves after ``widget`` has painted (a real paint event, not a grab)."""
    from PySide6.QtCore import QEvent, QObject

    done = asyncio.get_running_loop().create_future()

    class Watcher(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not done.done():
                done.set_result(None)
            return False

    watcher = Watcher()
    widget.installEventFilter(watcher)
    widget.update()
    await done
    widget.removeEventFilter(watcher)


def first_paint(widget: Any, ready: Any) -> asyncio.Future[tuple[float, float]]:
    """Resolves with the wall time and the process's CPU time just after ``widget``'s
    first paint once ``ready()`` holds (the paint that first shows what is awaited)."""
    from PySide6.QtCore import QEvent, QObject

    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[float, float]] = loop.create_future()

    def record() -> None:  # called soon after the paint: once Qt has done it
        if not done.done():
            used = resource.getrusage(resource.RUSAGE_SELF)
            done.set_result((time.time(), used.ru_utime + used.ru_stime))

    class Watcher(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and ready():
                loop.call_soon(record)
            return False

    watcher = Watcher(widget)
    widget.installEventFilter(watcher)
    done.add_done_callback(lambda _done: widget.removeEventFilter(watcher))
    return done


async def until(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.005)


async def open_window(app: Any, built: Any = None) -> tuple[Any, Any]:
    """``built(window)`` is called before the window shows."""
    from app.desktop.main import build

    bridge, window = build(app)
    if built is not None:
        built(window)
    window.resize(1180, 760)
    window.show()
    COLLECTOR.freeze_later()  # as main() does (utils/gcguard.py)
    opened = await bridge.open()
    if not opened:
        raise RuntimeError(window.messages.messages())
    return bridge, window


async def child_launch(app: Any, args: argparse.Namespace) -> dict[str, Any]:
    t0 = float(os.environ["SKIFF_BENCH_T0"])
    shown: asyncio.Future[tuple[float, float]] | None = None

    def watch(window: Any) -> None:  # the list's first paint with every container in it
        nonlocal shown
        shown = first_paint(window.sidebar.view.viewport(),
                            lambda: window.containers.rowCount() >= args.containers)

    bridge, window = await open_window(app, watch)
    assert shown is not None
    await until(lambda: window.containers.rowCount() >= args.containers)
    if not shown.done():  # (a paint Qt has not done yet: ask for one, as the user would see)
        window.sidebar.view.viewport().update()
    painted_at, launch_cpu = await shown  # CPU: steadier than the wall on a shared machine
    launch = painted_at - t0
    if args.arg == "quick":  # one more launch timed, nothing else
        window.close()
        await bridge.close()
        return {"launch_s": launch, "launch_cpu_s": launch_cpu}
    await asyncio.sleep(3)  # let start-up work settle
    import psutil  # (the window does not import it: not before the paint either)

    rss = rss_mb()
    process = psutil.Process()
    before = process.cpu_times()
    started = time.monotonic()
    await asyncio.sleep(10)
    after = process.cpu_times()
    elapsed = time.monotonic() - started
    cpu = (after.user + after.system - before.user - before.system) / elapsed * 100
    window.close()
    await bridge.close()
    return {"launch_s": launch, "launch_cpu_s": launch_cpu, "rss_idle_mb": rss,
            "idle_cpu_pct": cpu}


async def child_flood(app: Any, args: argparse.Namespace) -> dict[str, Any]:
    from app.desktop.logs.view import LogView

    view: LogView
    if args.arg == "engine":
        bridge, window = await open_window(app)
        await until(lambda: window.containers.entry(next(
            (e.key for e in window.containers.entries() if e.name == "flood"), "")) is not None)
        key = next(e.key for e in window.containers.entries() if e.name == "flood")
        window.select(key)
        window.show_tab("logs")
        view = window.details.logs
        await until(view.is_open)
    else:
        bridge = window = None
        view = LogView()
        view.resize(1000, 700)
        view.show()
        view.open(Path(args.arg), live=True)
    await until(lambda: view.model.rowCount() > 0)
    if window is not None:  # the window's start-up is over: its one full collection too
        await until(lambda: gc.get_freeze_count() > 0)
    assert view.model.path is not None
    stalls: list[float] = []
    shown = 0  # lines the view indexed, across the log's rotations (each starts it anew)
    last_rows = view.model.indexed_lines
    start = view.model.path.stat()
    started, cpu_started = time.monotonic(), time.process_time()
    tick = 0.005
    # The longest stall, and the CPU time the GUI thread and the whole process had in
    # it: little of both is waiting for a core (other processes), little of the GUI
    # thread's but much of the process's is waiting for the GIL (our other threads).
    worst = (0.0, 0.0, 0.0)
    while time.monotonic() - started < args.seconds:
        before, gui_before, all_before = time.monotonic(), time.thread_time(), time.process_time()
        await asyncio.sleep(tick)
        stall = max(0.0, time.monotonic() - before - tick)
        stalls.append(stall)
        if stall > worst[0]:
            worst = (stall, time.thread_time() - gui_before, time.process_time() - all_before)
        rows = view.model.indexed_lines
        shown += rows if rows < last_rows else rows - last_rows
        last_rows = rows
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    end = view.model.path.stat()
    rss = rss_mb()  # before counting reads the files here
    shown_rows = view.model.rowCount()
    written = _count_written(view.model.path, start, end)
    result = {
        "flood_source": "real container" if args.arg == "engine" else "file writer",
        "max_stall_ms": max(stalls) * 1000,
        "p99_stall_ms": sorted(stalls)[int(len(stalls) * 0.99)] * 1000,
        "max_stall_cpu_ms": worst[1] * 1000,
        "max_stall_process_cpu_ms": worst[2] * 1000,
        "lines_per_s": written / elapsed,
        "shown_per_s": shown / elapsed,
        "flood_cpu_pct": cpu / elapsed * 100,
        "following": view.following,
        "rss_flood_mb": rss,
        "rows": shown_rows,
    }
    if window is not None:
        window.close()
        await bridge.close()
    else:
        view.close_log()
    return result


def _count_written(path: Path, start: os.stat_result, end: os.stat_result) -> int:
    """Lines written between two looks at the log ``path`` (``start`` and ``end``: the
    file there then), across the files it was rotated to meanwhile."""
    from engine.wire.logformat import log_files

    for _attempt in range(10):  # the writer goes on rotating while this reads
        with contextlib.ExitStack() as stack:
            try:
                files = [stack.enter_context(open(file, "rb"))  # oldest first
                         for file in log_files(path)]
                unmoved = [os.stat(file).st_ino for file in log_files(path)]
            except FileNotFoundError:
                continue
            inodes = [os.fstat(f.fileno()).st_ino for f in files]
            if unmoved != inodes or start.st_ino not in inodes or end.st_ino not in inodes:
                continue
            first, last = inodes.index(start.st_ino), inodes.index(end.st_ino)
            count = 0
            for f in files[first:last + 1]:
                if f is files[first]:
                    f.seek(start.st_size)
                data = f.read(end.st_size - f.tell()) if f is files[last] else f.read()
                count += data.count(b"\n")
            return count
    raise RuntimeError("the flood's first log file was rotated away: keep more files")


async def child_bigfile(app: Any, args: argparse.Namespace) -> dict[str, Any]:
    from app.desktop.logs.view import LogView

    path = Path(args.arg)
    with open(path, "rb") as f:  # warm the page cache, as a log just written would be
        while f.read(64 << 20):
            pass
    view = LogView()
    view.resize(1000, 700)
    view.show()
    await painted(view)
    started = time.perf_counter()
    view.open(path, live=False)
    await until(lambda: view.model.rowCount() >= args.big_lines, timeout=120)
    await painted(view.table.viewport())
    elapsed = time.perf_counter() - started
    bar = view.table.verticalScrollBar()
    assert bar.value() == bar.maximum(), "the view is not at the end"
    view.close_log()
    return {"big_open_s": elapsed, "big_lines": args.big_lines,
            "big_mb": path.stat().st_size / 1e6}


def flood_writer(path: Path, rate: int, seconds: float) -> int:
    """Append CRI lines at ``rate`` a second, in 10 ms batches, through the monitor's
    own writer: it rotates the file every 20 MB and keeps 20, as the flood's
    container does."""
    from benchmarks.desktopsetup import FLOOD_LINE
    from engine.wire.logformat import LogWriter

    batch = max(1, rate // 100)
    chunk = f"{FLOOD_LINE}\n".encode() * batch
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    writer = LogWriter(fd, path, 20_000_000, 20)
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        writer.feed("stdout", chunk)
        n += 1
        delay = started + n * 0.01 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    os.close(fd)
    return 0

if __name__ == "__main__":
    sys.exit(main())
