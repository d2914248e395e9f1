"""The cgroup drivers against the kernel: this host's v1 hierarchies, and a
freshly mounted cgroup2 (whatever controllers it offers here).

Every cgroup lives under a parent named after this test process and is
removed by the test; processes are started by the test and put into the
cgroup before they exec what is measured.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine import errors
from engine.cgroups import CgroupSetup, Limits, detect, files
from engine.helper.cgroups import V1Cgroup, V2Cgroup, open_cgroup
from engine.helper.cgroups.apply import write

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="writing cgroups needs root"),
]

MiB = 1024 * 1024
BUSYBOX = "/bin/busybox"
V1_NEEDED = {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer"}


class Gated:
    """A process that waits for a line on stdin before exec'ing ``argv``, so it
    can be moved into a cgroup before the measured program runs."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            [BUSYBOX, "sh", "-c", 'read _ && exec "$@"', "sh", *argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid

    def release(self, keep_stdin: bool = False) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        if not keep_stdin:
            self.proc.stdin.close()

    def send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def readline(self) -> bytes:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def has_output(self, wait: float) -> bool:
        assert self.proc.stdout is not None
        return bool(select.select([self.proc.stdout], [], [], wait)[0])

    def state(self) -> str:
        """The one-letter state from /proc/<pid>/stat (R, S, D, T, Z...)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0]


@pytest.fixture
def spawn() -> Iterator[Callable[[list[str]], Gated]]:
    started: list[Gated] = []

    def start(argv: list[str]) -> Gated:
        gated = Gated(argv)
        started.append(gated)
        return gated

    yield start
    for gated in started:
        if gated.proc.poll() is None:
            gated.proc.kill()
        gated.proc.wait(timeout=30)
        for stream in (gated.proc.stdin, gated.proc.stdout, gated.proc.stderr):
            if stream is not None:
                stream.close()


def scrub(top: Path) -> None:
    """Last-resort cleanup if a test failed before destroy(): kill what the
    test put there, then remove the directories deepest first."""
    if not top.is_dir():
        return
    for directory, _, _ in os.walk(top, topdown=False):
        procs = Path(directory, "cgroup.procs")
        for pid in (files.read(procs) or "").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    for directory, _, _ in os.walk(top, topdown=False):
        for _ in range(100):
            try:
                os.rmdir(directory)
                break
            except FileNotFoundError:
                break
            except OSError:
                state = Path(directory, "freezer.state")
                if state.exists():
                    write(state, "THAWED")
                select.select([], [], [], 0.05)


# -- v1: this host's hierarchies -------------------------------------------------
@pytest.fixture
def v1_setup() -> CgroupSetup:
    host = detect()
    missing = V1_NEEDED - set(host.v1)
    if missing:
        pytest.skip(f"this host has no v1 hierarchy for {', '.join(sorted(missing))}")
    return CgroupSetup(host.root, v1=host.v1)  # v1 only, whatever the host would pick


@pytest.fixture
def v1_cgroups(v1_setup: CgroupSetup, spawn: object) -> Iterator[Callable[[str], V1Cgroup]]:
    """Cgroups under one parent; torn down before the processes of ``spawn``."""
    parent = f"skiff-test-{os.getpid()}"
    made: list[V1Cgroup] = []

    def make(name: str) -> V1Cgroup:
        cg = open_cgroup(name, parent, v1_setup)
        assert isinstance(cg, V1Cgroup)
        made.append(cg)
        return cg

    try:
        yield make
        for cg in made:
            cg.destroy()
        for mountpoint in set(v1_setup.v1.values()):
            assert not (mountpoint / parent).exists()
    finally:
        for mountpoint in set(v1_setup.v1.values()):
            scrub(mountpoint / parent)


def test_host_driver_matches_where_memory_is_bound() -> None:
    # /proc/self/cgroup names the v1 hierarchies a process is in; if memory
    # is one of them, memory is not available to cgroup v2.
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    memory_on_v1 = any("memory" in line.split(":")[1].split(",") for line in lines)
    setup = detect()
    if memory_on_v1:
        assert setup.driver == "v1"
        assert isinstance(open_cgroup("x", "skiff-probe"), V1Cgroup)
    else:
        assert setup.driver == "v2"
        assert isinstance(open_cgroup("x", "skiff-probe"), V2Cgroup)
    assert not Path(setup.root, "memory", "skiff-probe").exists()  # opening touched nothing


def test_v1_create_sets_limit_files(v1_cgroups: Callable[[str], V1Cgroup]) -> None:
    cg = v1_cgroups("c1")
    assert not cg.exists()
    limits = Limits(memory=64 * MiB, nano_cpus=500_000_000, pids=20)
    cg.create(limits)
    assert cg.exists()
    paths = cg.paths
    assert set(paths) == V1_NEEDED | ({"devices"} & set(cg.setup.v1))
    for path in paths.values():
        assert path.is_dir()
    mem = paths["memory"]
    assert (mem / "memory.limit_in_bytes").read_text() == f"{64 * MiB}\n"
    if (mem / "memory.memsw.limit_in_bytes").exists():
        assert (mem / "memory.memsw.limit_in_bytes").read_text() == f"{64 * MiB}\n"
    assert (paths["cpu"] / "cpu.cfs_period_us").read_text() == "100000\n"
    assert (paths["cpu"] / "cpu.cfs_quota_us").read_text() == "50000\n"
    assert (paths["pids"] / "pids.max").read_text() == "20\n"
    assert cg.limits() == limits
    # Creating again sets exactly the new limits, lifting the old ones.
    cg.create(Limits(memory=128 * MiB))
    assert cg.limits() == Limits(memory=128 * MiB)
    assert (paths["cpu"] / "cpu.cfs_quota_us").read_text() == "-1\n"
    cg.create(Limits())
    assert cg.limits() == Limits()


def test_v1_devices_deny_all_but_the_rules(v1_cgroups: Callable[[str], V1Cgroup]) -> None:
    cg = v1_cgroups("c1")
    if "devices" not in cg.paths:
        pytest.skip("this host has no v1 devices hierarchy")
    cg.create(Limits(devices=("c 1:3 rwm", "c 136:* rw")))
    assert (cg.paths["devices"] / "devices.list").read_text() == "c 1:3 rwm\nc 136:* rw\n"


def joined_child(cg: V1Cgroup | V2Cgroup) -> tuple[int, str, Callable[[], None]]:
    """A child just forked that moved itself with ``join()``: its pid, its
    /proc/self/cgroup, and what ends it."""
    report_r, report_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(report_r)
            os.close(hold_w)
            cg.join()
            os.write(report_w, Path("/proc/self/cgroup").read_bytes())
            os.close(report_w)
            os.read(hold_r, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(report_w)
    os.close(hold_r)
    with os.fdopen(report_r, "rb") as report:
        membership = report.read().decode()

    def end() -> None:
        os.close(hold_w)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0

    return pid, membership, end


def test_v1_join_moves_the_calling_process_into_every_hierarchy(
        v1_cgroups: Callable[[str], V1Cgroup]) -> None:
    cg = v1_cgroups("c1")
    cg.create(Limits())
    pid, membership, end = joined_child(cg)
    try:
        assert cg.procs() == [pid]
        for controller in cg.paths:
            assert any(line.endswith(f"/{cg.parent}/c1") and controller in
                       line.split(":")[1].split(",") for line in membership.splitlines())
    finally:
        end()


def test_v1_add_freeze_thaw(v1_cgroups: Callable[[str], V1Cgroup],
                            spawn: Callable[[list[str]], Gated]) -> None:
    cg = v1_cgroups("c1")
    cg.create(Limits())
    cat = spawn([BUSYBOX, "cat"])
    cg.add(cat.pid)
    assert cg.procs() == [cat.pid]
    membership = Path(f"/proc/{cat.pid}/cgroup").read_text()
    parent = cg.parent
    assert f":memory:/{parent}/c1\n" in membership
    assert f":freezer:/{parent}/c1\n" in membership
    cat.release(keep_stdin=True)
    cat.send(b"one\n")
    assert cat.readline() == b"one\n"

    cg.freeze()
    assert cg.frozen()
    assert (cg.paths["freezer"] / "freezer.state").read_text() == "FROZEN\n"
    assert cat.state() == "D"  # v1 frozen tasks sleep uninterruptibly
    cat.send(b"two\n")
    assert not cat.has_output(0.2)

    cg.thaw()
    assert not cg.frozen()
    assert cat.readline() == b"two\n"
    assert cat.state() in ("S", "R")


def test_v1_stats(v1_cgroups: Callable[[str], V1Cgroup],
                  spawn: Callable[[list[str]], Gated]) -> None:
    cg = v1_cgroups("c1")
    cg.create(Limits(memory=256 * MiB, pids=50))
    program = ("import sys; data = b'x' * (16 << 20); n = sum(range(3_000_000)); "
               "print('ready', flush=True); sys.stdin.readline()")
    proc = spawn([sys.executable, "-c", program])
    cg.add(proc.pid)
    proc.release(keep_stdin=True)
    assert proc.readline() == b"ready\n"
    stats = cg.stats()
    assert stats.memory_usage >= 16 * MiB
    assert stats.memory_limit == 256 * MiB
    assert stats.cpu_usage_ns > 0
    assert stats.pids == 1
    assert stats.oom_kills == 0
    assert not cg.oom_killed()


def test_v1_memory_hog_is_oom_killed(v1_cgroups: Callable[[str], V1Cgroup],
                                     spawn: Callable[[list[str]], Gated]) -> None:
    cg = v1_cgroups("c1")
    cg.create(Limits(memory=32 * MiB))
    hog = spawn([sys.executable, "-c", "data = b'x' * (256 << 20)"])
    cg.add(hog.pid)
    hog.release()
    assert hog.proc.wait(timeout=120) == -signal.SIGKILL
    assert cg.oom_killed()
    assert cg.stats().oom_kills >= 1


def test_v1_pids_limit_stops_forks(v1_cgroups: Callable[[str], V1Cgroup],
                                   spawn: Callable[[list[str]], Gated]) -> None:
    cg = v1_cgroups("c1")
    cg.create(Limits(pids=4))
    script = (f"i=0; while [ $i -lt 20 ]; do {BUSYBOX} sleep 600 <&- >&- 2>&- & "
              "i=$((i+1)); done; echo all started")
    shell = spawn([BUSYBOX, "sh", "-c", script])
    cg.add(shell.pid)
    shell.release()
    assert shell.proc.wait(timeout=60) != 0
    assert shell.proc.stdout is not None and shell.proc.stderr is not None
    out, err = shell.proc.stdout.read(), shell.proc.stderr.read()
    assert b"all started" not in out
    assert b"can't fork" in err
    left = cg.procs()  # the sleeps that did start
    assert 1 <= len(left) <= 3
    assert cg.stats().pids == len(left)
    cg.destroy()
    assert not cg.exists()


def test_v1_destroy_kills_and_removes_parent_when_last(
        v1_cgroups: Callable[[str], V1Cgroup], spawn: Callable[[list[str]], Gated]) -> None:
    first, second = v1_cgroups("c1"), v1_cgroups("c2")
    first.create(Limits(memory=64 * MiB))
    second.create(Limits())
    sleepers = []
    for cg in (first, second):
        sleeper = spawn([BUSYBOX, "sleep", "600"])
        cg.add(sleeper.pid)
        sleeper.release()
        sleepers.append(sleeper)
    first.freeze()  # destroy must thaw it for SIGKILL to act
    first.destroy()
    assert sleepers[0].proc.wait(timeout=30) == -signal.SIGKILL
    assert not first.exists()
    parents = {p.parent for p in first.paths.values()}
    assert all(p.is_dir() for p in parents)  # c2 is still there
    assert sleepers[1].proc.poll() is None
    second.destroy()
    assert sleepers[1].proc.wait(timeout=30) == -signal.SIGKILL
    assert not any(p.exists() for p in parents)
    first.destroy()  # again: nothing left to do


def test_v1_errors(v1_cgroups: Callable[[str], V1Cgroup],
                   spawn: Callable[[list[str]], Gated]) -> None:
    cg = v1_cgroups("c1")
    sleeper = spawn([BUSYBOX, "sleep", "600"])
    with pytest.raises(errors.SkiffError, match="does not exist"):
        cg.add(sleeper.pid)
    cg.create(Limits())
    with pytest.raises(errors.SkiffError, match="No such process"):
        cg.add(2**22 + 1)  # above pid_max's ceiling: never a live process
    with pytest.raises(errors.InvalidArgument, match="memory limit"):
        cg.create(Limits(memory=1024))


# -- v2: a fresh cgroup2 mount ---------------------------------------------------
@pytest.fixture
def cgroup2(tmp_path: Path) -> Iterator[CgroupSetup]:
    mountpoint = tmp_path / "cgroup2"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "cgroup2", "none", str(mountpoint)], check=True)
    try:
        yield detect(mountpoint)
    finally:
        scrub(mountpoint / f"skiff-test-{os.getpid()}")
        if subprocess.run(["umount", str(mountpoint)]).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=True)


@pytest.fixture
def v2_cgroups(cgroup2: CgroupSetup, spawn: object) -> Iterator[Callable[[str], V2Cgroup]]:
    parent = f"skiff-test-{os.getpid()}"
    made: list[V2Cgroup] = []

    def make(name: str) -> V2Cgroup:
        cg = open_cgroup(name, parent, cgroup2)
        assert isinstance(cg, V2Cgroup)
        made.append(cg)
        return cg

    yield make
    for cg in made:
        cg.destroy()
    assert cgroup2.v2 is not None
    assert not (cgroup2.v2 / parent).exists()


def test_v2_detect_on_a_fresh_mount(cgroup2: CgroupSetup) -> None:
    assert cgroup2.v2 is not None
    assert (cgroup2.mode, cgroup2.driver, cgroup2.v1) == ("v2", "v2", {})
    listed = (cgroup2.v2 / "cgroup.controllers").read_text().split()
    assert cgroup2.v2_controllers == set(listed)


def test_v2_lifecycle_with_a_real_process(v2_cgroups: Callable[[str], V2Cgroup],
                                          spawn: Callable[[list[str]], Gated],
                                          cgroup2: CgroupSetup) -> None:
    cg = v2_cgroups("c1")
    cg.create(Limits())
    path = cg.paths["unified"]
    assert cg.exists() and path.is_dir()
    cat = spawn([BUSYBOX, "cat"])
    cg.add(cat.pid)
    assert cg.procs() == [cat.pid]
    assert f"0::/{cg.parent}/c1\n" in Path(f"/proc/{cat.pid}/cgroup").read_text()
    cat.release(keep_stdin=True)
    cat.send(b"one\n")
    assert cat.readline() == b"one\n"

    cg.freeze()
    assert cg.frozen()
    assert "frozen 1\n" in (path / "cgroup.events").read_text()
    cat.send(b"two\n")
    assert not cat.has_output(0.2)
    cg.thaw()
    assert not cg.frozen()
    assert cat.readline() == b"two\n"

    stats = cg.stats()
    assert stats.cpu_usage_ns > 0  # cpu.stat's usage is there without the cpu controller
    if "pids" not in cgroup2.v2_controllers:
        assert stats.pids == 0
    if "memory" not in cgroup2.v2_controllers:
        assert (stats.memory_usage, stats.memory_limit, stats.oom_kills) == (0, None, 0)

    cg.freeze()
    cg.destroy()
    assert cat.proc.wait(timeout=30) == -signal.SIGKILL
    assert not cg.exists()
    assert not path.parent.exists()


def test_v2_join_moves_the_calling_process(v2_cgroups: Callable[[str], V2Cgroup]) -> None:
    cg = v2_cgroups("c1")
    cg.create(Limits())
    pid, membership, end = joined_child(cg)
    try:
        assert cg.procs() == [pid]
        assert f"0::/{cg.parent}/c1\n" in membership
    finally:
        end()


def test_v2_destroy_removes_nested_cgroups(v2_cgroups: Callable[[str], V2Cgroup],
                                           spawn: Callable[[list[str]], Gated]) -> None:
    outer, other = v2_cgroups("c1"), v2_cgroups("c2")
    outer.create(Limits())
    other.create(Limits())
    inner = outer.paths["unified"] / "inner"  # as a container with cgroup access might
    inner.mkdir()
    sleepers = [spawn([BUSYBOX, "sleep", "600"]) for _ in range(2)]
    outer.add(sleepers[0].pid)
    write(inner / "cgroup.procs", str(sleepers[1].pid))
    for sleeper in sleepers:
        sleeper.release()
    assert outer.procs() == [sleepers[0].pid]
    outer.destroy()
    for sleeper in sleepers:
        assert sleeper.proc.wait(timeout=30) == -signal.SIGKILL
    assert not outer.exists()
    assert other.exists()  # the parent stays while c2 uses it
    other.destroy()
    assert not other.paths["unified"].parent.exists()


def test_v2_limits_need_their_controllers(v2_cgroups: Callable[[str], V2Cgroup],
                                          cgroup2: CgroupSetup) -> None:
    missing = [c for c in ("memory", "cpu", "pids") if c not in cgroup2.v2_controllers]
    if not missing:
        pytest.skip("this host's cgroup2 offers memory, cpu and pids")
    cg = v2_cgroups("c1")
    asks = {"memory": Limits(memory=64 * MiB), "cpu": Limits(nano_cpus=10**9 // 2),
            "pids": Limits(pids=10)}
    for controller in missing:
        with pytest.raises(errors.KernelFeatureMissing,
                           match=f"cgroup controller '{controller}' is not available"):
            cg.create(asks[controller])
        assert not cg.paths["unified"].parent.exists()


def test_v2_create_survives_a_sibling_removing_the_parent(
        v2_cgroups: Callable[[str], V2Cgroup]) -> None:
    # Two containers share the parent; each destroy() removes it when it
    # looks empty, which can fall between the other's mkdir of the parent
    # and of its own cgroup.
    pair = [v2_cgroups("c1"), v2_cgroups("c2")]
    failures: list[BaseException] = []

    def churn(cg: V2Cgroup) -> None:
        try:
            for _ in range(1000):
                cg.create(Limits())
                assert cg.exists()
                cg.destroy()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=churn, args=(cg,)) for cg in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_v2_kernel_refusing_a_controller_is_a_missing_feature(cgroup2: CgroupSetup) -> None:
    if "memory" in cgroup2.v2_controllers:
        pytest.skip("this host's cgroup2 offers memory")
    assert cgroup2.v2 is not None
    claims = CgroupSetup(cgroup2.root, v2=cgroup2.v2,
                         v2_controllers=frozenset({"memory", "cpu", "pids"}))
    cg = open_cgroup("c1", f"skiff-test-{os.getpid()}", claims)
    with pytest.raises(errors.KernelFeatureMissing,
                       match=r"'memory' is not available: .*cgroup.subtree_control refused it"):
        cg.create(Limits(memory=64 * MiB))
    assert not cg.paths["unified"].parent.exists()
