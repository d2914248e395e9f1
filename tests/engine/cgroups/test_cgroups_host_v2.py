"""The cgroup v2 driver against the kernel: a freshly mounted cgroup2 (whatever
controllers it offers here), as most desktops have it.

Every cgroup lives under a parent named after this test process and is removed by
the test; processes are started by the test and put into the cgroup before they
exec what is measured.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine import errors
from engine.cgroups import CgroupSetup, Limits, detect
from engine.helper.cgroups import V2Cgroup, open_cgroup
from engine.helper.cgroups.apply import write
from tests.engine.cgroups.processes import BUSYBOX, Gated, MiB, joined_child, scrub

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="writing cgroups needs root"),
]


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
