"""Cgroup detection, value translation and file parsing, without root.

Hosts are described by a made-up mountinfo over a temporary tree; a "v2
host" is a directory laid out like a cgroup2 mount. Real hierarchies are
exercised in test_cgroups_host.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import errors
from engine.cgroups import (
    CgroupSetup,
    CgroupStats,
    Limits,
    blkio,
    cpu,
    detect,
    files,
    memory,
    pids,
)
from engine.cgroups.detect import parse_mountinfo
from engine.cgroups.plan import Mkdir, Write
from engine.helper.cgroups import V1Cgroup, V2Cgroup, open_cgroup
from engine.helper.cgroups.apply import apply

MiB = 1024 * 1024

V1_LINES = """\
24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
31 23 0:28 / {root} rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / {root}/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / {root}/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / {root}/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / {root}/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / {root}/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / {root}/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / {root}/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
"""
UNIFIED_LINE = "41 31 0:38 / {root}/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
PURE_V2 = """\
24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 23 0:27 / {root} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
"""
V2_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc\n"


def host(tmp_path: Path, mountinfo: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    root.mkdir(exist_ok=True)
    info = tmp_path / "mountinfo"
    info.write_text(mountinfo.format(root=root))
    return root, info


def v2_host(tmp_path: Path, controllers: str = V2_CONTROLLERS) -> CgroupSetup:
    root, info = host(tmp_path, PURE_V2)
    for name in ("cgroup.procs", "cgroup.subtree_control"):
        (root / name).write_text("")
    (root / "cgroup.controllers").write_text(controllers)
    setup = detect(root, info)
    assert setup.driver == "v2"
    return setup


def fill(directory: Path, contents: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        (directory / name).write_text(text)


# -- detect -------------------------------------------------------------------
def test_detect_pure_v2(tmp_path: Path) -> None:
    setup = v2_host(tmp_path)
    assert setup.mode == "v2"
    assert setup.v1 == {}
    assert setup.v2 == tmp_path / "cgroup"
    assert setup.v2_controllers == {"cpuset", "cpu", "io", "memory", "hugetlb", "pids",
                                    "rdma", "misc"}
    assert isinstance(open_cgroup("c1", "skiff", setup), V2Cgroup)


def test_detect_hybrid_without_unified_controllers_picks_v1(tmp_path: Path) -> None:
    root, info = host(tmp_path, V1_LINES + UNIFIED_LINE)
    fill(root / "unified", {"cgroup.controllers": ""})
    setup = detect(root, info)
    assert setup.mode == "hybrid"
    assert setup.driver == "v1"
    assert setup.v2 == root / "unified"
    assert setup.v2_controllers == frozenset()
    assert setup.v1 == {
        "cpu": root / "cpu,cpuacct", "cpuacct": root / "cpu,cpuacct",
        "cpuset": root / "cpuset", "memory": root / "memory", "freezer": root / "freezer",
        "blkio": root / "blkio", "pids": root / "pids",
    }
    assert isinstance(open_cgroup("c1", "skiff", setup), V1Cgroup)


def test_detect_hybrid_with_unified_controllers_picks_v2(tmp_path: Path) -> None:
    lines = V1_LINES.replace(",memory", ",hugetlb").replace(",pids", ",rdma")
    root, info = host(tmp_path, lines + UNIFIED_LINE)
    fill(root / "unified", {"cgroup.controllers": "memory pids cpu io\n"})
    setup = detect(root, info)
    assert setup.mode == "hybrid"
    assert setup.driver == "v2"


def test_detect_pure_v1(tmp_path: Path) -> None:
    root, info = host(tmp_path, V1_LINES)
    setup = detect(root, info)
    assert (setup.mode, setup.driver, setup.v2) == ("v1", "v1", None)


def test_detect_v2_missing_a_controller_is_still_v2_when_nothing_else(tmp_path: Path) -> None:
    root, info = host(tmp_path, PURE_V2)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    setup = detect(root, info)
    assert (setup.mode, setup.driver) == ("v2", "v2")
    with pytest.raises(errors.KernelFeatureMissing, match="'pids' is not available"):
        open_cgroup("c1", "skiff", setup).create(Limits(pids=10))
    assert not (root / "skiff").exists()


def test_detect_nothing_mounted(tmp_path: Path) -> None:
    root, info = host(tmp_path, "24 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    setup = detect(root, info)
    assert (setup.mode, setup.driver) == ("none", None)
    with pytest.raises(errors.KernelFeatureMissing, match="no cgroup hierarchy"):
        open_cgroup("c1", "skiff", setup)
    assert detect(root, tmp_path / "no-such-mountinfo").driver is None


def test_parse_mountinfo_only_under_root_escapes_and_shadowing() -> None:
    text = (
        "1 0 0:1 / /elsewhere rw - cgroup2 cgroup2 rw\n"
        "2 0 0:2 / /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n"
        "3 0 0:3 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        # mounted over the pids hierarchy: it is gone from view
        "4 0 0:4 / /sys/fs/cgroup/pids rw - tmpfs tmpfs rw\n"
        "5 0 0:5 / /sys/fs/cgroupfoo rw - cgroup cgroup rw,freezer\n"
        "garbage line\n"
    )
    v1, v2 = parse_mountinfo(text, Path("/sys/fs/cgroup/"))
    assert v1 == {"memory": Path("/sys/fs/cgroup/my memory")}
    assert v2 is None


# -- names --------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "../x", "a b", "x\x00", "é", "a" * 256])
def test_names_are_single_safe_components(tmp_path: Path, bad: str) -> None:
    setup = v2_host(tmp_path)
    with pytest.raises(errors.InvalidArgument, match="invalid cgroup name"):
        open_cgroup(bad, "skiff", setup)
    with pytest.raises(errors.InvalidArgument, match="invalid cgroup parent"):
        open_cgroup("c1", bad, setup)
    with pytest.raises(errors.InvalidArgument):
        V1Cgroup(bad, "skiff", setup)


def test_good_names(tmp_path: Path) -> None:
    setup = v2_host(tmp_path)
    cg = open_cgroup("0123abc_DEF.x-y", "skiff-test.1", setup)
    assert cg.paths == {"unified": tmp_path / "cgroup" / "skiff-test.1" / "0123abc_DEF.x-y"}


# -- value translation ----------------------------------------------------------
def test_memory_values() -> None:
    assert [(str(w.path), w.value, w.optional) for w in memory.v1_writes(32 * MiB)] == [
        ("memory.memsw.limit_in_bytes", "-1", True),
        ("memory.limit_in_bytes", str(32 * MiB), False),
        ("memory.memsw.limit_in_bytes", str(32 * MiB), True),
    ]
    assert [(str(w.path), w.value) for w in memory.v1_writes(None)] == [
        ("memory.memsw.limit_in_bytes", "-1"), ("memory.limit_in_bytes", "-1")]
    assert [(str(w.path), w.value, w.optional) for w in memory.v2_writes(32 * MiB)] == [
        ("memory.max", str(32 * MiB), False), ("memory.swap.max", "0", True)]
    assert [w.value for w in memory.v2_writes(None)] == ["max", "max"]
    assert memory.parse_v1_limit("9223372036854771712\n") is None
    assert memory.parse_v1_limit("33554432\n") == 32 * MiB
    assert memory.parse_v1_limit(None) is None
    assert memory.working_set(100, 30) == 70
    assert memory.working_set(100, 300) == 100


@pytest.mark.parametrize("bad", [0, 1024, 6 * MiB - 1, -1, True, "1g", 1.5])
def test_memory_rejects(bad: object) -> None:
    with pytest.raises(errors.InvalidArgument, match="memory limit"):
        memory.v2_writes(bad)  # type: ignore[arg-type]


def test_cpu_values() -> None:
    assert [(str(w.path), w.value) for w in cpu.v1_writes(500_000_000)] == [
        ("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "50000")]
    assert [w.value for w in cpu.v1_writes(None)] == ["100000", "-1"]
    assert [(str(w.path), w.value) for w in cpu.v2_writes(10_000_000)] == [
        ("cpu.max", "1000 100000")]
    assert [w.value for w in cpu.v2_writes(None)] == ["max 100000"]
    assert cpu.from_v2("150000 100000\n") == 1_500_000_000
    assert cpu.from_v2("max 100000\n") is None
    assert cpu.from_v2(None) is None
    assert cpu.from_v1(25000, 50000) == 500_000_000
    assert cpu.from_v1(-1, 100000) is None


def test_cpu_rejects() -> None:
    cpu.check(4_000_000_000, cpu_count=4)
    with pytest.raises(errors.InvalidArgument, match=r"use 0\.01 to 4"):
        cpu.check(4_000_000_001, cpu_count=4)
    with pytest.raises(errors.InvalidArgument, match=r"CPU limit 0\.005 is out of range"):
        cpu.check(5_000_000, cpu_count=4)
    with pytest.raises(errors.InvalidArgument):
        cpu.check(0.5)  # type: ignore[arg-type]


def test_pids_values() -> None:
    assert [(str(w.path), w.value) for w in pids.writes(64)] == [("pids.max", "64")]
    assert [w.value for w in pids.writes(None)] == ["max"]
    for bad in (0, -1, False):
        with pytest.raises(errors.InvalidArgument, match="pids limit"):
            pids.writes(bad)


def test_file_formats() -> None:
    assert files.parse_flat_keyed("populated 1\nfrozen 0\nodd\nx y\n") == {
        "populated": 1, "frozen": 0}
    assert files.parse_max("max\n") is None
    assert files.parse_max("42\n") == 42
    assert blkio.parse_v1("8:0 Read 100\n8:0 Write 20\n8:0 Sync 120\n8:16 Read 1\n"
                          "8:0 Total 120\nTotal 121\n") == (101, 20)
    assert blkio.parse_v1(None) == (0, 0)
    assert blkio.parse_v2("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"
                          "8:16 rbytes=5 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n") == (15, 20)


# -- v2 driver against a tree laid out like cgroup2 -----------------------------
def test_v2_plan(tmp_path: Path) -> None:
    setup = v2_host(tmp_path)
    root = tmp_path / "cgroup"
    cg = open_cgroup("c1", "skiff", setup)
    assert isinstance(cg, V2Cgroup)
    plan = cg.plan_create(Limits(memory=64 * MiB, nano_cpus=1_500_000_000, pids=100))
    path = root / "skiff" / "c1"
    enable = ["memory", "cpu", "pids", "io"]
    assert plan == [
        *(Write(root / "cgroup.subtree_control", f"+{c}", c) for c in enable),
        Mkdir(root / "skiff"),
        *(Write(root / "skiff" / "cgroup.subtree_control", f"+{c}", c) for c in enable),
        Mkdir(path),
        Write(path / "memory.max", str(64 * MiB), "memory"),
        Write(path / "memory.swap.max", "0", "memory", optional=True),
        Write(path / "cpu.max", "150000 100000", "cpu"),
        Write(path / "pids.max", "100", "pids"),
    ]


def test_v2_update_writes_only_the_limits_of_an_existing_cgroup(tmp_path: Path) -> None:
    """docker update: no mkdir, no controller enabling; None lifts a limit."""
    setup = v2_host(tmp_path)
    path = tmp_path / "cgroup" / "skiff" / "c1"
    fill(path, {n: "" for n in ("memory.max", "cpu.max", "pids.max")})
    cg = open_cgroup("c1", "skiff", setup)
    assert cg.plan_update(Limits(pids=5)) == [  # type: ignore[attr-defined]
        Write(path / "memory.max", "max", "memory"),
        Write(path / "memory.swap.max", "max", "memory", optional=True),
        Write(path / "cpu.max", "max 100000", "cpu"),
        Write(path / "pids.max", "5", "pids"),
    ]
    cg.update(Limits(memory=32 * MiB, nano_cpus=500_000_000))
    assert cg.limits() == Limits(memory=32 * MiB, nano_cpus=500_000_000, pids=None)
    with pytest.raises(errors.SkiffError, match="does not exist"):
        open_cgroup("gone", "skiff", setup).update(Limits(pids=1))


def test_v2_create_writes_limit_files_and_reads_them_back(tmp_path: Path) -> None:
    setup = v2_host(tmp_path)
    path = tmp_path / "cgroup" / "skiff" / "c1"
    # What the kernel would make on mkdir: the interface files, empty here.
    fill(path.parent, {"cgroup.subtree_control": ""})
    fill(path, {n: "" for n in ("memory.max", "cpu.max", "pids.max", "cgroup.procs")})
    cg = open_cgroup("c1", "skiff", setup)
    cg.create(Limits(memory=64 * MiB, nano_cpus=250_000_000, pids=7))
    assert (path / "memory.max").read_text() == str(64 * MiB)
    assert not (path / "memory.swap.max").exists()  # no swap accounting: skipped
    assert (path / "cpu.max").read_text() == "25000 100000"
    assert (path / "pids.max").read_text() == "7"
    assert cg.limits() == Limits(memory=64 * MiB, nano_cpus=250_000_000, pids=7)
    cg.add(1234)
    assert (path / "cgroup.procs").read_text() == "1234"


def test_v2_missing_controller_raises_before_touching_anything(tmp_path: Path) -> None:
    root, info = host(tmp_path, PURE_V2)
    (root / "cgroup.controllers").write_text("cpu io memory\n")
    (root / "cgroup.subtree_control").write_text("")
    cg = open_cgroup("c1", "skiff", detect(root, info))
    with pytest.raises(errors.KernelFeatureMissing,
                       match=r"cgroup controller 'pids' is not available: it is not listed in"):
        cg.create(Limits(memory=64 * MiB, pids=5))
    assert not (root / "skiff").exists()
    assert (root / "cgroup.subtree_control").read_text() == ""


def test_v2_limit_file_missing_in_cgroup_is_a_missing_feature(tmp_path: Path) -> None:
    setup = v2_host(tmp_path)
    path = tmp_path / "cgroup" / "skiff" / "c1"
    fill(path.parent, {"cgroup.subtree_control": ""})
    fill(path, {"cpu.max": "", "pids.max": ""})
    with pytest.raises(errors.KernelFeatureMissing, match=r"'memory' is not available: .*"
                                                          r"memory\.max does not exist"):
        open_cgroup("c1", "skiff", setup).create(Limits(memory=64 * MiB))


def test_v2_stats_from_files(tmp_path: Path) -> None:
    setup = v2_host(tmp_path)
    fill(tmp_path / "cgroup" / "skiff" / "c1", {
        "memory.current": "10485760\n",
        "memory.max": "33554432\n",
        "memory.stat": "anon 6291456\nfile 4194304\ninactive_file 2097152\nactive_file 0\n",
        "memory.events": "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
        "cpu.stat": "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n",
        "pids.current": "3\n",
        "io.stat": "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
        "cgroup.events": "populated 1\nfrozen 1\n",
        "cgroup.procs": "11\n12\n",
    })
    cg = open_cgroup("c1", "skiff", setup)
    assert cg.stats() == CgroupStats(memory_usage=8 * MiB, memory_limit=32 * MiB,
                                     cpu_usage_ns=2_500_000, pids=3, blkio_read=4096,
                                     blkio_write=8192, oom_kills=1)
    assert cg.cpu_usage_ns() == 2_500_000
    assert cg.oom_killed()
    assert cg.frozen()
    assert cg.procs() == [11, 12]


def test_v2_stats_without_controllers_are_zero(tmp_path: Path) -> None:
    setup = v2_host(tmp_path)
    fill(tmp_path / "cgroup" / "skiff" / "c1", {"cpu.stat": "usage_usec 7\n"})
    cg = open_cgroup("c1", "skiff", setup)
    assert cg.stats() == CgroupStats(0, None, 7000, 0, 0, 0, 0)
    assert cg.limits() == Limits()
    assert not cg.oom_killed()
    assert not cg.frozen()
    gone = open_cgroup("gone", "skiff", setup)
    assert not gone.exists()
    assert gone.stats() == CgroupStats(0, None, 0, 0, 0, 0, 0)
    assert gone.procs() == []


# -- v1 driver against a tree laid out like the v1 hierarchies ---------------------
def test_v1_plan_and_missing_controllers(tmp_path: Path) -> None:
    root, info = host(tmp_path, V1_LINES)
    setup = detect(root, info)
    cg = open_cgroup("c1", "skiff", setup)
    assert isinstance(cg, V1Cgroup)
    assert set(cg.paths) == {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer"}
    plan = cg.plan_create(Limits(memory=32 * MiB, nano_cpus=1_000_000_000, pids=9))
    mkdirs = [s.path for s in plan if isinstance(s, Mkdir)]
    # cpu and cpuacct share one hierarchy: one directory for both.
    assert mkdirs.count(root / "cpu,cpuacct" / "skiff" / "c1") == 1
    assert root / "freezer" / "skiff" / "c1" in mkdirs
    writes = [(s.path.relative_to(root), s.value) for s in plan if isinstance(s, Write)]
    assert writes == [
        (Path("memory/skiff/c1/memory.memsw.limit_in_bytes"), "-1"),
        (Path("memory/skiff/c1/memory.limit_in_bytes"), str(32 * MiB)),
        (Path("memory/skiff/c1/memory.memsw.limit_in_bytes"), str(32 * MiB)),
        (Path("cpu,cpuacct/skiff/c1/cpu.cfs_period_us"), "100000"),
        (Path("cpu,cpuacct/skiff/c1/cpu.cfs_quota_us"), "100000"),
        (Path("pids/skiff/c1/pids.max"), "9"),
    ]
    no_pids = CgroupSetup(root, {k: v for k, v in setup.v1.items() if k != "pids"})
    partial = V1Cgroup("c1", "skiff", no_pids)
    partial.plan_create(Limits(memory=32 * MiB))  # fine without pids
    with pytest.raises(errors.KernelFeatureMissing,
                       match="cgroup controller 'pids' is not available: it is not mounted"):
        partial.create(Limits(pids=5))
    assert not (root / "memory" / "skiff").exists()


def test_v1_stats_and_limits_from_files(tmp_path: Path) -> None:
    root, info = host(tmp_path, V1_LINES)
    setup = detect(root, info)
    fill(root / "memory" / "skiff" / "c1", {
        "memory.usage_in_bytes": "10485760\n",
        "memory.limit_in_bytes": "33554432\n",
        "memory.stat": "cache 0\ninactive_file 1\ntotal_inactive_file 1048576\n",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        "cgroup.procs": "5\n",
    })
    fill(root / "cpu,cpuacct" / "skiff" / "c1", {
        "cpuacct.usage": "123456789\n", "cpu.cfs_quota_us": "150000\n",
        "cpu.cfs_period_us": "100000\n", "cgroup.procs": "5\n6\n",
    })
    fill(root / "pids" / "skiff" / "c1", {"pids.current": "2\n", "pids.max": "max\n"})
    fill(root / "blkio" / "skiff" / "c1", {
        "blkio.throttle.io_service_bytes_recursive": "8:0 Read 512\n8:0 Write 1024\n"
                                                     "8:0 Total 1536\nTotal 1536\n"})
    fill(root / "freezer" / "skiff" / "c1", {"freezer.state": "FREEZING\n"})
    cg = open_cgroup("c1", "skiff", setup)
    assert cg.stats() == CgroupStats(memory_usage=9 * MiB, memory_limit=32 * MiB,
                                     cpu_usage_ns=123456789, pids=2, blkio_read=512,
                                     blkio_write=1024, oom_kills=2)
    assert cg.cpu_usage_ns() == 123456789
    assert cg.limits() == Limits(memory=32 * MiB, nano_cpus=1_500_000_000, pids=None)
    assert cg.oom_killed()
    assert not cg.frozen()  # FREEZING is not frozen yet
    assert cg.procs() == [5, 6]
    assert cg.exists()


def test_apply_errors_speak_to_the_user(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(errors.SkiffError, match="a file has that name"):
        apply([Mkdir(tmp_path / "afile")])
    with pytest.raises(errors.SkiffError, match="does not exist"):
        apply([Write(tmp_path / "nodir" / "cgroup.procs", "1", "")])
    apply([Write(tmp_path / "swap", "0", "memory", optional=True)])
    assert not (tmp_path / "swap").exists()
