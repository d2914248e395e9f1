"""/sys/fs/cgroup in a container: its own cgroups, read-only, as Docker shows them.

The plans are checked for both host layouts without root; real containers, root's
and a user's (in its user namespace), show their limits there and cannot write.
"""

from __future__ import annotations

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, Resources
from engine.helper import syscalls as sc
from engine.helper.runtime.cgroupfs import Membership, parse_membership, plan_cgroupfs
from engine.helper.runtime.mounts import plan_rootfs

HYBRID = """\
12:name=systemd:/
11:net_cls,net_prio:/skiff/c1
4:memory:/skiff/c1
3:cpuset:/
1:cpu,cpuacct:/skiff/c1
0::/
"""
RO = sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC


def test_the_membership_is_read_as_the_kernel_writes_it() -> None:
    assert parse_membership(HYBRID)[:2] == [Membership("name=systemd", "/"),
                                            Membership("net_cls,net_prio", "/skiff/c1")]
    assert parse_membership("0::/user.slice/skiff/c1\n") == [Membership("", "/user.slice/skiff/c1")]


def test_a_cgroup_v2_host_gets_one_read_only_cgroup2() -> None:
    steps = plan_cgroupfs("/r/sys/fs/cgroup", parse_membership("0::/skiff/c1\n"))
    assert [(s.target, s.fstype, s.flags) for s in steps] == [("/r/sys/fs/cgroup", "cgroup2", RO)]


def test_a_v1_host_gets_docker_s_layout_of_the_hierarchies_the_container_is_in() -> None:
    steps = plan_cgroupfs("/c", parse_membership(HYBRID))
    assert steps[0].fstype == "tmpfs" and not steps[0].flags & sc.MS_RDONLY
    mounts = [(s.target, s.data, s.flags) for s in steps if s.fstype == "cgroup"]
    assert mounts == [("/c/net_cls,net_prio", "net_cls,net_prio", RO),
                      ("/c/memory", "memory", RO), ("/c/cpu,cpuacct", "cpu,cpuacct", RO)]
    links = {s.target: s.source for s in steps if s.kind == "symlink"}
    assert links == {"/c/net_cls": "net_cls,net_prio", "/c/net_prio": "net_cls,net_prio",
                     "/c/cpu": "cpu,cpuacct", "/c/cpuacct": "cpu,cpuacct"}
    last = steps[-1]  # the tmpfs itself is read-only once filled
    assert last.target == "/c" and last.flags == sc.MS_REMOUNT | RO
    # cpuset and name=systemd are at "/": mounting them would show the host's whole tree
    assert not [s for s in steps if "cpuset" in s.target or "systemd" in s.target]


def test_a_process_in_no_cgroup_of_its_own_sees_none() -> None:
    assert plan_cgroupfs("/c", parse_membership("1:memory:/\n0::/\n")) == []


def test_the_cgroup_mounts_go_on_sysfs_and_only_with_it() -> None:
    cgroups = plan_cgroupfs("/r/sys/fs/cgroup", parse_membership("0::/skiff/c1\n"))
    def targets(sysfs: bool) -> list[str]:
        plan = plan_rootfs(rootfs="/r", lowerdirs=["l"], upperdir="/u", workdir="/w", binds=[],
                           mount_sysfs=sysfs, cgroupfs=cgroups)
        return [step.target for step in plan.steps]
    with_sysfs = targets(True)
    assert with_sysfs.index("/r/sys/fs/cgroup") == with_sysfs.index("/r/sys") + 1
    assert "/r/sys/fs/cgroup" not in targets(False)


# -- real containers ---------------------------------------------------------------------

SHOW = ("cat /proc/self/cgroup; "
        "cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null; "
        "touch /sys/fs/cgroup/x 2>&1; mkdir /sys/fs/cgroup/pids/y /sys/fs/cgroup/y 2>&1; "
        "echo done")


def check_own_cgroups(out: str, pids_limit: str | None = "7") -> None:
    """What SHOW printed: the container's own cgroup root, its limit, no writes."""
    lines = out.splitlines()
    memberships = [line for line in lines if line.count(":") >= 2 and line[0].isdigit()]
    assert memberships and all(line.endswith(":/") for line in memberships), out  # own root
    if pids_limit is not None:  # read where the container's programs read it
        assert pids_limit in lines, out
    assert "Read-only file system" in out and "done" in lines, out


@pytest.mark.root
async def test_root_s_container_and_its_exec_read_their_own_limits(engine: Engine) -> None:
    def config(*cmd: str) -> ContainerConfig:
        return ContainerConfig(image="busybox", image_id="", cmd=list(cmd),
                               resources=Resources(pids_limit=7))
    shown = await engine.containers.create(config("sh", "-c", SHOW))
    sleeper = await engine.containers.create(config("sleep", "60"))
    try:
        await engine.containers.start(shown.id)
        assert await engine.containers.wait(shown.id) == 0
        check_own_cgroups("".join([line.data.decode() + ("" if line.partial else "\n")
                                   async for line in engine.containers.logs(shown.id)]))
        await engine.containers.start(sleeper.id)
        session = await engine.containers.exec(sleeper.id, ["sh", "-c", SHOW])
        out = b""
        while data := (await session.read())[1]:
            out += data
        assert await session.wait() == 0
        session.close()
        check_own_cgroups(out.decode())
    finally:
        for container in (shown, sleeper):
            await engine.containers.remove(container.id, force=True)
