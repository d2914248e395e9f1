"""Devices: a container uses Docker's default set and nothing else, root's too.

Both ways are tested on this host, whichever it would pick: the cgroup v1
devices controller, and nodev mounts with the host's nodes bound (what
cgroup v2 hosts get), forced with SKIFF_DEVICES. Probes run in the container;
nodes that would open are a real host disk and /dev/fuse.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine import Engine, errors
from engine.cgroups import CgroupSetup, Limits, host_setup
from engine.cgroups.devices import v1_writes
from engine.cgroups.plan import Write
from engine.containers.config import ContainerConfig, MountSpec
from engine.helper import syscalls as sc
from engine.helper.cgroups import V1Cgroup, V2Cgroup
from engine.helper.runtime.capabilities import DEFAULT_CAPABILITIES, mask
from engine.helper.runtime.devices import CGROUP_RULES, choose_mode, container_capabilities
from engine.helper.runtime.mounts import plan_rootfs
from tests.fixtures.engine import tidy_engine

# -- pure -------------------------------------------------------------------------------

V1_WITH_DEVICES = CgroupSetup(Path("/cg"), {"memory": Path("/cg/memory"),
                                            "devices": Path("/cg/devices")})
V1_WITHOUT = CgroupSetup(Path("/cg"), {"memory": Path("/cg/memory")})
V2 = CgroupSetup(Path("/cg"), {}, Path("/cg"), frozenset({"memory", "cpu", "pids"}))


def test_the_mode_follows_the_host() -> None:
    assert choose_mode(V1_WITH_DEVICES) == "cgroup"
    assert choose_mode(V1_WITHOUT) == "nodev"
    assert choose_mode(V2) == "nodev"
    assert choose_mode(V1_WITH_DEVICES, "nodev") == "nodev"
    with pytest.raises(errors.KernelFeatureMissing, match="needs the cgroup v1 devices"):
        choose_mode(V2, "cgroup")
    with pytest.raises(errors.InvalidArgument, match="use cgroup or nodev"):
        choose_mode(V2, "bpf")


def test_without_a_devices_cgroup_there_is_no_mknod() -> None:
    assert container_capabilities("cgroup") == DEFAULT_CAPABILITIES
    assert "CAP_MKNOD" in DEFAULT_CAPABILITIES
    assert set(container_capabilities("nodev")) == set(DEFAULT_CAPABILITIES) - {"CAP_MKNOD"}


def test_device_rules_deny_all_then_allow_the_default_set() -> None:
    writes = v1_writes(CGROUP_RULES)
    assert writes[0] == Write(Path("devices.deny"), "a", "devices")
    assert [w.value for w in writes[1:]] == list(CGROUP_RULES)
    assert "c 1:3 rwm" in CGROUP_RULES and "c 136:* rwm" in CGROUP_RULES
    assert not [rule for rule in CGROUP_RULES if rule.startswith("b") or "*:*" in rule]
    assert v1_writes(None) == []
    with pytest.raises(errors.InvalidArgument, match="invalid device rule"):
        v1_writes(("c 1:3 rwm\na",))
    plan = V1Cgroup("c1", "skiff", V1_WITH_DEVICES).plan_create(Limits(devices=CGROUP_RULES))
    assert Write(Path("/cg/devices/skiff/c1/devices.deny"), "a", "devices") in plan
    with pytest.raises(errors.KernelFeatureMissing, match="'devices' is not available"):
        V1Cgroup("c1", "skiff", V1_WITHOUT).plan_create(Limits(devices=CGROUP_RULES))
    with pytest.raises(errors.KernelFeatureMissing, match="cgroup v2 has no devices"):
        V2Cgroup("c1", "skiff", V2).plan_create(Limits(devices=CGROUP_RULES))


def test_dev_is_nodev_where_no_cgroup_guards_it() -> None:
    def dev_flags(mode: str) -> int:
        plan = plan_rootfs(rootfs="/r", lowerdirs=["l"], upperdir="/u", workdir="/w",
                           binds=[], device_mode=mode)
        return next(step.flags for step in plan.steps if step.target == "/r/dev")
    assert not dev_flags("cgroup") & sc.MS_NODEV
    assert dev_flags("nodev") & sc.MS_NODEV


# -- real containers, in both modes -------------------------------------------------------

@pytest.fixture(params=["cgroup", "nodev"])
async def engine(request: pytest.FixtureRequest, busybox_image: str,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    """An Engine whose helper keeps containers to their devices the ``param`` way."""
    if request.param == "cgroup" and choose_mode(host_setup()) != "cgroup":
        pytest.skip("this host's container cgroups have no v1 devices controller")
    monkeypatch.setenv("SKIFF_DEVICES", request.param)
    async with tidy_engine() as opened:
        yield opened


def _disk() -> tuple[int, int]:
    """A block device that opens: the host's root file system's, else loop0."""
    dev = os.stat("/").st_dev
    return (os.major(dev), os.minor(dev)) if os.major(dev) else (7, 0)


DISK = _disk()
FUSE = (10, 229)  # opens for root with no capability and no side effect
PLACES = ("/dev", "/tmp", "/vol", "/scratch", "/bind")


async def _output(engine: Engine, ref: str) -> str:
    return "".join([line.data.decode() + ("" if line.partial else "\n")
                    async for line in engine.containers.logs(ref)])


async def _exec(engine: Engine, cid: str, script: str) -> str:
    session = await engine.containers.exec(cid, ["sh", "-c", script])
    out = b""
    while True:
        _, data = await session.read()
        if not data:
            break
        out += data
    await session.wait()
    session.close()
    return out.decode()


def _probe(paths: list[str]) -> str:
    """Open each for reading; say which opened and why the others did not."""
    return "; ".join(f'(exec 3<"{p}") 2>&1 && echo "OPENED {p}"' for p in paths)


@pytest.mark.root
async def test_no_node_can_be_made(engine: Engine, tmp_path: Path) -> None:
    bind = tmp_path / "bind"
    bind.mkdir()
    script = "; ".join(
        f"mknod {place}/blk b {DISK[0]} {DISK[1]} 2>&1; mknod {place}/chr c {FUSE[0]} {FUSE[1]} "
        f"2>&1; {_probe([f'{place}/blk', f'{place}/chr'])}" for place in PLACES)
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sh", "-c", script + "; ls -A /vol /bind"],
        mounts=[MountSpec("volume", "/vol", "devices-vol"), MountSpec("tmpfs", "/scratch"),
                MountSpec("bind", "/bind", str(bind))]))
    await engine.containers.start(container.id)
    await engine.containers.wait(container.id)
    out = await _output(engine, container.id)
    assert "OPENED" not in out, out
    for place in PLACES:
        for name in ("blk", "chr"):
            assert f"mknod: {place}/{name}: Operation not permitted" in out, out
    assert list(bind.iterdir()) == []
    assert list(Path((await engine.volumes.get("devices-vol")).mountpoint).iterdir()) == []
    await engine.containers.remove(container.id)
    await engine.volumes.remove("devices-vol")


@pytest.mark.root
async def test_nodes_that_come_in_another_way_do_not_open(engine: Engine, tmp_path: Path
                                                          ) -> None:
    """A bind of a host directory holding nodes, nodes in a volume, nodes copied in."""
    mode = os.environ["SKIFF_DEVICES"]
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    os.mknod(nodes / "blk", stat.S_IFBLK | 0o666, os.makedev(*DISK))
    os.mknod(nodes / "chr", stat.S_IFCHR | 0o666, os.makedev(*FUSE))
    await engine.volumes.create("devices-vol")
    volume = Path((await engine.volumes.get("devices-vol")).mountpoint)
    os.mknod(volume / "blk", stat.S_IFBLK | 0o666, os.makedev(*DISK))
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sleep", "600"],
        mounts=[MountSpec("volume", "/vol", "devices-vol"), MountSpec("tmpfs", "/scratch"),
                MountSpec("bind", "/bind", str(nodes))]))
    await engine.containers.start(container.id)
    try:
        for place in ("/dev", "/tmp", "/scratch"):
            for name in ("blk", "chr"):
                await engine.containers.copy_to(container.id, nodes / name, f"{place}/{name}")
        paths = [f"{place}/{name}" for place in ("/dev", "/tmp", "/scratch", "/bind")
                 for name in ("blk", "chr")] + ["/vol/blk"]
        out = await _exec(engine, container.id, _probe(paths))
        assert "OPENED" not in out, out
        # Overlay and tmpfs mounts are nodev in both modes; the rest is the mode's doing.
        refusals = {"Permission denied"} | ({"Operation not permitted"} if mode == "cgroup"
                                            else set())
        assert [line.rsplit(": ", 1)[1] in refusals for line in out.splitlines()] == \
            [True] * len(paths), out
        if mode == "cgroup":
            assert "can't open /dev/blk: Operation not permitted" in out  # /dev is not nodev
        # ... while the default set works
        out = await _exec(engine, container.id,
                          "head -c 5 /dev/urandom | wc -c; head -c 3 /dev/zero | wc -c; "
                          "echo x > /dev/null && echo null; (echo x > /dev/full) 2>&1; "
                          "(exec 3<>/dev/ptmx) && echo ptmx")
        assert out.splitlines() == ["5", "3", "null",
                                    "sh: write error: No space left on device", "ptmx"], out
        status = await _exec(engine, container.id, "grep CapEff /proc/self/status")
        assert int(status.split()[1], 16) == mask(container_capabilities(mode))
        if mode == "cgroup":
            cgroup = host_setup().v1["devices"] / os.environ["SKIFF_CGROUP_PARENT"] / container.id
            assert (cgroup / "devices.list").read_text().split("\n")[:-1] == list(CGROUP_RULES)
    finally:
        await engine.containers.remove(container.id, force=True)
        await engine.volumes.remove("devices-vol")


@pytest.mark.root
async def test_a_device_asked_for_opens_and_no_other(engine: Engine, tmp_path: Path) -> None:
    """--device: the host's node at its place, opened by its rights; FUSE stays shut."""
    from engine.containers.config import DeviceMapping

    node = tmp_path / "mynull"
    os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    script = (f"echo hi > /dev/mine && echo WROTE; mknod /dev/f c {FUSE[0]} {FUSE[1]} 2>&1; "
              f"{_probe(['/dev/f'])}; grep ' /dev/mine ' /proc/mounts")
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sh", "-c", script],
        devices=[DeviceMapping(str(node), "/dev/mine", "rw")]))
    await engine.containers.start(container.id)
    assert await engine.containers.wait(container.id) == 0
    out = await _output(engine, container.id)
    assert "WROTE" in out and "OPENED" not in out, out
    mount = next(line for line in out.splitlines() if " /dev/mine " in line)
    assert "nodev" not in mount.split()[3] and "nosuid" in mount.split()[3], mount
    await engine.containers.remove(container.id)
