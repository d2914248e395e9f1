"""The cgroup v1 driver against the kernel: this host's v1 hierarchies (the v2
driver's tests are in test_cgroups_host_v2.py).

Every cgroup lives under a parent named after this test process and is
removed by the test; processes are started by the test and put into the
cgroup before they exec what is measured.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine import errors
from engine.cgroups import CgroupSetup, Limits, detect
from engine.helper.cgroups import V1Cgroup, V2Cgroup, open_cgroup
from tests.engine.cgroups.processes import BUSYBOX, Gated, MiB, joined_child, scrub

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="writing cgroups needs root"),
]

V1_NEEDED = {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer"}


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
