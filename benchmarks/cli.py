"""The commands people type all day, skiff beside podman, run alternately.

    .venv/bin/python benchmarks/cli.py [--runs 15] [--containers 200] [--running 100]
                                       [--only reads,cold,run,parallel,stats] [--against DIR]

Skiff runs as ``make install`` installs it (a venv's ``python -IS`` and a
launcher that imports ``app.cli.launcher``; no editable-install finder) with one
helper lingering between commands, as a user's does; podman on its own storage
(its containers labelled and removed at the end). Both get the test suite's
busybox image. With one container (``talker``, exited) and then with
``--containers`` created ones beside it, it times, alternating the two tools
round by round, ``ps``, ``ps -a``, ``inspect``, ``logs --tail 10`` (of a
container that printed 100 lines) and ``images``; then (``cold``) ``ps``,
``inspect``, ``logs --tail 10`` and ``images`` as the first command in a minute: no
skiff server up, so the command runs in the script's own process (the server it
starts when done is stopped before podman's turn); then ``run --rm --network
none busybox true`` (and skiff's with its default bridge network), 50
``run -d`` in parallel followed by one ``rm -f`` of them all, and ``stats
--no-stream`` of ``--running`` running containers. It prints the
median wall time and CPU time (user + system of the command and its children)
of each, and skiff's ratio to podman (target: at most 1.0; run --rm: 0.6).
``--against DIR`` adds to the ``cold`` and ``run`` rounds the skiff of another
checkout (a ``git worktree`` of an older commit, say), so that both meet the same load.
Everything is removed afterwards. Needs root, podman and skopeo.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sleepers import busybox_world  # noqa: E402

Timing = tuple[float, float]  # (wall, cpu) seconds
# podman 4.3 cannot start a container on this kind of host as it is: its crun raises
# RLIMIT_NOFILE/NPROC (this VM's root lacks CAP_SYS_RESOURCE: given lower ones, it
# only sets them) and refuses hybrid cgroups (so it runs in a mount namespace
# without the cgroup2 mount, as benchmarks/containers.py runs crun; what that
# wrapper costs is printed, and counted in podman's time).
PODMAN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=10000:10000"]
LABEL = "skiff-benchmark=cli"
PARTS = ("reads", "cold", "run", "parallel", "stats")
NO_UNIFIED = ["unshare", "-m", "sh", "-c", 'umount /sys/fs/cgroup/unified && exec "$@"', "-"]


def installed_skiff(work: Path, checkout: Path = ROOT) -> list[str]:
    """A venv like ``make install``'s whose launcher (packaging/skiff.in's, ``python -IS``)
    -S``) runs this checkout's code (or ``checkout``'s); no editable-install finder."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # Plain paths: this checkout, and the dependencies this interpreter has.
    dependencies = sysconfig.get_paths()["purelib"]
    (site / "skiff.pth").write_text(f"{checkout}\n{dependencies}\n")
    launcher = venv / "bin" / "skiff"
    launcher.write_text(f"#!{venv}/bin/python -IS\nimport sys\n\n"
                        f"sys.path[:0] = [{str(checkout)!r}]\nsys.path.append({dependencies!r})\n"
                        "import app.cli.launcher as launcher\n\n"
                        "# an older checkout's (--against) has no console()\n"
                        "getattr(launcher, 'console', lambda: sys.exit(launcher.main()))()\n")
    launcher.chmod(0o755)
    return [str(launcher)]


def servers(root: str | None = None) -> list[int]:
    """The pids of this world's ``skiff`` servers (app/cli/forkserver.py); or those of
    the world at ``root``."""
    found = []
    for lock in (Path(root or os.environ["SKIFF_ROOT"]) / "run").glob("cli-*.sock.lock"):
        text = lock.read_text().strip()
        if text.isdigit() and Path(f"/proc/{text}").exists():
            found.append(int(text))
    return found


def served_cpu(root: str | None = None) -> float:
    """CPU seconds of the commands our servers ran (their reaped children's), so far."""
    ticks = 0
    for pid in servers(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def stop_servers(root: str | None = None) -> None:
    """As if no command ran in the last minute: the next one starts a server."""
    for pid in servers(root):
        os.kill(pid, signal.SIGTERM)
        while Path(f"/proc/{pid}").exists():
            time.sleep(0.01)


def timed(command: list[str], stdin: int | None = None,
          env: dict[str, str] | None = None) -> Timing:
    """Wall and CPU of one command; CPU counts what a server ran for it (a command the
    client handed over runs in a child of the server, not of ours). Run in /: a
    working directory with an ``engine`` package (a checkout) would be the helper's
    code for a Skiff from before session 8 (engine/helperclient.py)."""
    root = (env or os.environ)["SKIFF_ROOT"]
    before = served_cpu(root)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stdin=stdin, env=env,
                               cwd="/")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return wall, usage.ru_utime + usage.ru_stime + served_cpu(root) - before


def other_world(work: Path, checkout: Path, archive: Path) -> tuple[list[str], dict[str, str]]:
    """``--against``: another checkout's skiff in a world of its own (its own helper and
    server), with busybox loaded; its launcher and environment."""
    env = dict(os.environ, SKIFF_ROOT=str(work / "against" / "root"),
               SKIFF_CGROUP_PARENT=f"{os.environ['SKIFF_CGROUP_PARENT']}-against",
               SKIFF_NET_PREFIX=f"{os.environ['SKIFF_NET_PREFIX']}a",
               SKIFF_NET_TABLE=f"{os.environ['SKIFF_NET_TABLE']}_against")
    skiff = installed_skiff(work / "against", checkout)
    subprocess.run([*skiff, "load", "-q", "-i", str(archive)], env=env, check=True, cwd="/",
                   stdout=subprocess.DEVNULL)
    return skiff, env


def first_command(command: list[str], env: dict[str, str] | None = None) -> Timing:
    """A command with no server up, as the first in a minute runs; the server it starts
    when done (in the background: not counted) is stopped once it is there, so that
    its imports do not run beside the next round's commands."""
    root = (env or os.environ)["SKIFF_ROOT"]
    stop_servers(root)
    timing = timed(command, env=env)
    deadline = time.monotonic() + 10
    while not servers(root) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop_servers(root)
    return timing


def alternate(runs: int, pairs: dict[str, tuple[Callable[[], Timing], Callable[[], Timing]]]
              ) -> dict[str, tuple[list[Timing], list[Timing]]]:
    """Each pair's two sides one after the other, round by round (noise hits both)."""
    found: dict[str, tuple[list[Timing], list[Timing]]] = {k: ([], []) for k in pairs}
    for _ in range(runs):
        for label, (ours, theirs) in pairs.items():
            found[label][0].append(ours())
            found[label][1].append(theirs())
    return found


def report(title: str, found: dict[str, tuple[list[Timing], list[Timing]]]) -> None:
    print(f"\n{title}")
    print(f"{'command':<34}{'skiff wall':>11}{'podman':>9}{'ratio':>7}"
          f"{'skiff cpu':>11}{'podman':>9}{'ratio':>7}")
    for label, (ours, theirs) in found.items():
        cells = ""
        for index in (0, 1):
            mine = statistics.median(t[index] for t in ours) * 1000
            peer = statistics.median(t[index] for t in theirs) * 1000
            cells += f"{mine:>9.1f}ms{peer:>7.1f}ms{mine / peer:>7.2f}"
        print(f"{label:<34}{cells}")
    sys.stdout.flush()


READS = {"ps": ["ps"], "ps -a": ["ps", "-a"], "inspect talker": ["inspect", "talker"],
         "logs --tail 10 talker": ["logs", "--tail", "10", "talker"], "images": ["images"]}
COLD = ("ps", "inspect talker", "logs --tail 10 talker", "images")


def read_commands(skiff: list[str], podman: list[str], runs: int, title: str) -> None:
    serving(skiff)
    report(title, alternate(runs, {
        label: (functools.partial(timed, [*skiff, *args]),
                functools.partial(timed, [*podman, *args]))
        for label, args in READS.items()}))


def cold_commands(skiff: list[str], podman: list[str], runs: int, title: str,
                  against: tuple[list[str], dict[str, str]] | None) -> None:
    """The read commands as the first in a minute (no server up), beside podman's;
    ``against``: another checkout's skiff and world, in the same rounds."""
    pairs: dict[str, tuple[Callable[[], Timing], Callable[[], Timing]]] = {}
    for label in COLD:
        args = READS[label]
        pairs[label] = (functools.partial(first_command, [*skiff, *args]),
                        functools.partial(timed, [*podman, *args]))
        if against is not None:
            pairs[f"{label}, --against"] = (
                functools.partial(first_command, [*against[0], *args], against[1]),
                functools.partial(timed, [*podman, *args]))
    report(f"{title}: the first command in a minute (no skiff server up: it runs in the "
           "script's own process; the server it starts then is not counted)",
           alternate(runs, pairs))


def serving(skiff: list[str]) -> None:
    """A server up and listening, as after any command in the last minute."""
    deadline = time.monotonic() + 60
    sockets = Path(os.environ["SKIFF_ROOT"]) / "run"
    while not (servers() and any(sockets.glob("cli-*.sock"))):
        if time.monotonic() > deadline:
            raise SystemExit("no skiff server started")
        subprocess.run([*skiff, "version"], stdout=subprocess.DEVNULL, check=True)
        time.sleep(0.5)


def create_many(creates: list[list[str]], count: int, command: tuple[str, ...] = ("true",),
                env: dict[str, str] | None = None) -> None:
    """``count`` containers in each, made by each tool's own CLI, 8 at a time."""
    for create in creates:
        batch: list[subprocess.Popen[bytes]] = []
        for _ in range(count):
            batch.append(subprocess.Popen([*create, "--network", "none", "busybox", *command],
                                          stdout=subprocess.DEVNULL, env=env))
            if len(batch) == 8:
                for process in batch:
                    process.wait()
                batch = []
        for process in batch:
            process.wait()


def force_remove(tool: list[str]) -> list[str]:
    """docker's ``rm -f`` kills at once; podman's waits its stop timeout (10 s) first."""
    return [*tool, "rm", "-f", *(["-t", "0"] if tool == ["podman"] else [])]


def remove_all(tool: list[str], env: dict[str, str] | None = None) -> None:
    mine = ["--filter", f"label={LABEL}"] if tool == ["podman"] else []
    ids = subprocess.run([*tool, "ps", "-aq", *mine], check=True, capture_output=True,
                         text=True, env=env).stdout.split()
    if ids:
        subprocess.run([*force_remove(tool), *ids], check=True, stdout=subprocess.DEVNULL,
                       env=env)


def parallel_runs(run: list[str], tool: list[str], count: int) -> tuple[float, float]:
    """(wall of ``count`` ``run -d`` in parallel, wall of one ``rm -f`` of them all)."""
    start = time.perf_counter()
    processes = [subprocess.Popen([*run, "-d", "--network", "none", "busybox", "sleep", "600"],
                                  stdout=subprocess.PIPE)
                 for _ in range(count)]
    ids = [p.communicate()[0].decode().strip() for p in processes]
    started = time.perf_counter() - start
    if any(p.returncode for p in processes):
        raise SystemExit(f"{' '.join(run)} -d failed")
    start = time.perf_counter()
    subprocess.run([*force_remove(tool), *ids], check=True, stdout=subprocess.DEVNULL)
    return started, time.perf_counter() - start


def stats_once(skiff: list[str], podman: list[str], runs: int) -> None:
    """``stats --no-stream`` of the running containers: its CPU (target: < 100 ms for
    skiff's with 100 running); podman's beside it where it can read them here."""
    peer = subprocess.run([*podman, "stats", "--no-stream"], capture_output=True)
    ours: list[Timing] = []
    theirs: list[Timing] = []
    for _ in range(runs):
        serving(skiff)  # podman's stats may outlast the benchmark's short idle time
        ours.append(timed([*skiff, "stats", "--no-stream"]))
        if peer.returncode == 0:
            theirs.append(timed([*podman, "stats", "--no-stream"]))
    cpu = statistics.median(t[1] for t in ours) * 1000
    print(f"{'skiff stats --no-stream':<34}{cpu:>9.1f}ms CPU "
          f"(wall {statistics.median(t[0] for t in ours) * 1000:.0f} ms: one second between "
          "its two samples)")
    if theirs:
        print(f"{'podman stats --no-stream':<34}"
              f"{statistics.median(t[1] for t in theirs) * 1000:>9.1f}ms CPU")
    else:
        print(f"podman stats --no-stream fails here: {peer.stderr.decode().strip()[-120:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--running", type=int, default=100,
                        help="containers running for stats --no-stream")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"the parts to run, of {','.join(PARTS)} (default: all)")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="run: also time the skiff of this checkout (another commit's), "
                             "in a world of its own, in the same rounds")
    options = parser.parse_args()
    only = set(options.only.split(","))
    if not only <= set(PARTS):
        parser.error(f"--only takes some of {','.join(PARTS)}")
    if os.geteuid() != 0 or shutil.which("podman") is None:
        print("run this benchmark as root, with podman installed", file=sys.stderr)
        return 1
    with busybox_world("cli") as archive:
        work = archive.parent
        # As a user's commands find it: one helper that lingers between them (the
        # private world's default, 0, starts one for every command).
        os.environ["SKIFF_HELPER_IDLE"] = "10"
        skiff = installed_skiff(work)
        # podman's own storage: with a private --root it fights the system's for the
        # shared lock segment. The containers carry a label; all of them go at the end.
        podman = ["podman"]

        def starting(tool: list[str], verb: str) -> list[str]:
            if tool is not podman:
                return [*tool, verb]
            return [*NO_UNIFIED, *tool, verb, *PODMAN_LIMITS, "--label", LABEL]

        subprocess.run([*podman, "load", "-q", "-i", str(archive)], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*podman, "tag", "localhost/busybox:latest", "busybox"], check=False,
                       stderr=subprocess.DEVNULL)
        against: tuple[list[str], dict[str, str]] | None = None
        try:
            if options.against is not None and only & {"cold", "run"}:
                against = other_world(work, options.against.resolve(), archive)
            if only & {"reads", "cold"}:
                worlds: list[tuple[list[str], dict[str, str] | None]] = [
                    (skiff, None), (podman, None), *([against] if against else [])]
                for tool, env in worlds:
                    subprocess.run([*starting(tool, "run"), "--name", "talker", "--network",
                                    "none", "busybox", "seq", "1", "100"], check=True,
                                   stdout=subprocess.DEVNULL, env=env)
                for count in (0, options.containers):
                    if count:
                        for tool, env in worlds:
                            create_many([starting(tool, "create")], count, env=env)
                    title = (f"{count + 1} containers (created, and talker)" if count
                             else "1 container (talker, exited)")
                    if "reads" in only:
                        read_commands(skiff, podman, options.runs, title)
                    if "cold" in only:
                        cold_commands(skiff, podman, options.runs, title, against)
                for tool, env in worlds:
                    remove_all(tool, env)
            if "run" in only:
                serving(skiff)
                none = ["--rm", "--network", "none", "busybox", "true"]
                pairs = {
                    "--network none": (lambda: timed([*starting(skiff, "run"), *none]),
                                       lambda: timed([*starting(podman, "run"), *none])),
                    "skiff bridge / podman none": (
                        lambda: timed([*skiff, "run", "--rm", "busybox", "true"]),
                        lambda: timed([*starting(podman, "run"), *none])),
                }
                if against is not None:
                    other, env = against
                    for _ in range(2):  # its server and helper up, as ours
                        timed([*other, "run", *none], env=env)
                    pairs["--network none, --against"] = (
                        lambda: timed([*other, "run", *none], env=env),
                        lambda: timed([*starting(podman, "run"), *none]))
                report("run --rm busybox true, end to end", alternate(options.runs, pairs))
                wrapper = statistics.median(timed([*NO_UNIFIED, "true"])[0] for _ in range(9))
                print(f"(podman's unshare wrapper alone: {wrapper * 1000:.1f} ms)")
            if "parallel" in only:
                print("\n50 run -d in parallel, then rm -f of all 50 (wall)")
                serving(skiff)
                for name, tool in (("skiff", skiff), ("podman", podman)):
                    started, removed = parallel_runs(starting(tool, "run"), tool, 50)
                    print(f"{name:<10}run -d x50 {started * 1000:>8.0f}ms"
                          f"   rm -f {removed * 1000:>7.0f}ms")
            if "stats" in only:
                print(f"\n{options.running} containers running")
                create_many([[*starting(t, "run"), "-d"] for t in (skiff, podman)],
                            options.running, ("sleep", "3600"))
                stats_once(skiff, podman, max(3, options.runs // 3))
        finally:
            for tool in (skiff, podman):
                remove_all(tool)
            if against is not None:
                remove_all(*against)
                stop_servers(against[1]["SKIFF_ROOT"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
