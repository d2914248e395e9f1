"""Docker's host options in real containers of root's: --dns, --add-host, --cap-add and
--cap-drop, --init, --cpu-shares, --read-only, --shm-size, --ulimit, --sysctl.

Each is checked from inside the container (what it reads in /etc, /proc and
/sys), and the pure rules (parsing, Docker's texts) without root.
"""

from __future__ import annotations

import os
import re

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, DeviceMapping, Resources, Ulimit
from engine.containers.hostopts import (
    check_host_options,
    normalize_capabilities,
    parse_device,
    parse_extra_host,
    parse_sysctl,
    parse_ulimit,
)
from engine.errors import InvalidArgument
from engine.helper.runtime.capabilities import DEFAULT_CAPABILITIES, NAMES, mask, resolve
from engine.helper.runtime.reaper import exit_code


def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd),
                           **options)  # type: ignore[arg-type]


async def run(engine: Engine, *cmd: str, **options: object) -> tuple[int, str]:
    container = await engine.containers.create(config(*cmd, **options))
    try:
        await engine.containers.start(container.id)
        code = await engine.containers.wait(container.id)
        out = "".join([line.data.decode() + ("" if line.partial else "\n")
                       async for line in engine.containers.logs(container.id)])
    finally:
        await engine.containers.remove(container.id, force=True)
    return code, out


# -- pure ---------------------------------------------------------------------------------

def test_ulimits_read_as_docker_reads_them() -> None:
    assert parse_ulimit("nofile=1024") == Ulimit("nofile", 1024, 1024)
    assert parse_ulimit("nofile=512:2048") == Ulimit("nofile", 512, 2048)
    assert parse_ulimit("core=-1") == Ulimit("core", -1, -1)
    with pytest.raises(InvalidArgument, match="invalid ulimit type: files"):
        parse_ulimit("files=1")
    with pytest.raises(InvalidArgument, match="invalid ulimit argument: nofile"):
        parse_ulimit("nofile")
    with pytest.raises(InvalidArgument, match="soft limit must be less than or equal to hard"):
        parse_ulimit("nofile=10:5")


def test_devices_hosts_and_sysctls_read_as_docker_reads_them() -> None:
    assert parse_device("/dev/fuse") == DeviceMapping("/dev/fuse", "/dev/fuse", "rwm")
    assert parse_device("/dev/a:/dev/b:r") == DeviceMapping("/dev/a", "/dev/b", "r")
    assert parse_device("/dev/a:rw") == DeviceMapping("/dev/a", "/dev/a", "rw")
    with pytest.raises(InvalidArgument, match="not an absolute path"):
        parse_device("/dev/a:b")
    assert parse_extra_host("db:10.0.0.2") == "db:10.0.0.2"
    assert parse_extra_host("db=10.0.0.2") == "db:10.0.0.2"
    assert parse_extra_host("gw:host-gateway") == "gw:host-gateway"
    assert parse_extra_host("v6:::1") == "v6:::1"
    with pytest.raises(InvalidArgument, match="invalid IP address in add-host"):
        parse_extra_host("db:nope")
    with pytest.raises(InvalidArgument, match="bad format for add-host"):
        parse_extra_host("db")
    assert parse_sysctl("net.ipv4.ip_forward=1") == ("net.ipv4.ip_forward", "1")
    assert parse_sysctl("kernel.shmmax=1000000") == ("kernel.shmmax", "1000000")
    for name in ("kernel.panic", "vm.swappiness", "fs.file-max"):
        with pytest.raises(InvalidArgument, match=f"sysctl '{name}' is not allowed"):
            parse_sysctl(f"{name}=1")
    with pytest.raises(InvalidArgument, match="use --hostname"):
        parse_sysctl("kernel.hostname=x")
    with pytest.raises(InvalidArgument, match="host's network namespace"):
        check_host_options(config("true", network="host",
                                  sysctls={"net.ipv4.ip_forward": "1"}))
    with pytest.raises(InvalidArgument, match="IP address is not correctly formatted"):
        check_host_options(config("true", dns=["dns.example"]))
    with pytest.raises(InvalidArgument, match="is not a valid mac address"):
        check_host_options(config("true", mac_address="02:42"))


def test_capabilities_follow_dockers_rule() -> None:
    assert normalize_capabilities(["net_admin", "CAP_SYS_TIME", "all"]) == [
        "CAP_NET_ADMIN", "CAP_SYS_TIME", "ALL"]
    with pytest.raises(InvalidArgument, match='unknown capability: "CAP_FLY"'):
        normalize_capabilities(["fly"])
    added = resolve(DEFAULT_CAPABILITIES, ["CAP_NET_ADMIN"], ["CAP_CHOWN"])
    assert "CAP_NET_ADMIN" in added and "CAP_CHOWN" not in added
    assert resolve(DEFAULT_CAPABILITIES, ["CAP_KILL"], ["ALL"]) == ("CAP_KILL",)
    assert set(resolve(DEFAULT_CAPABILITIES, ["ALL"], ["CAP_SYS_ADMIN"])) == \
        set(NAMES) - {"CAP_SYS_ADMIN"}


def test_an_exit_status_as_the_shell_tells_it() -> None:
    assert exit_code(0) == 0
    assert exit_code(3 << 8) == 3
    assert exit_code(15) == 143  # killed by SIGTERM


# -- real containers ----------------------------------------------------------------------

pytest_root = pytest.mark.root


def _cap_eff(out: str) -> int:
    line = next(line for line in out.splitlines() if line.startswith("CapEff:"))
    return int(line.split()[1], 16)


@pytest_root
async def test_dns_and_extra_hosts_in_etc(engine: Engine) -> None:
    code, out = await run(
        engine, "sh", "-c", "cat /etc/resolv.conf; echo ---; cat /etc/hosts",
        dns=["192.0.2.53"], dns_search=["example.test"], dns_options=["ndots:2"],
        extra_hosts=["db:192.0.2.10", "gw:host-gateway"])
    assert code == 0, out
    resolv, hosts = out.split("---")
    assert "nameserver 192.0.2.53" in resolv.splitlines()
    assert [line for line in resolv.splitlines() if line.startswith("nameserver")] == [
        "nameserver 192.0.2.53"]
    assert "search example.test" in resolv and "options ndots:2" in resolv
    assert "192.0.2.10\tdb" in hosts
    gateway = [line for line in hosts.splitlines() if line.endswith("\tgw")]
    assert gateway and not gateway[0].startswith("\t"), hosts


@pytest_root
async def test_capabilities_added_and_dropped(engine: Engine) -> None:
    code, out = await run(engine, "grep", "Cap", "/proc/self/status",
                          cap_add=["NET_ADMIN"], cap_drop=["CHOWN"])
    assert code == 0, out
    effective = _cap_eff(out)
    assert effective & mask(["CAP_NET_ADMIN"])
    assert not effective & mask(["CAP_CHOWN"])
    code, out = await run(engine, "sh", "-c", "ip link set lo mtu 1400 && echo changed",
                          cap_add=["NET_ADMIN"], network="none")
    assert code == 0 and "changed" in out, out
    code, out = await run(engine, "chown", "1:1", "/tmp", cap_drop=["ALL"])
    assert code != 0 and "not permitted" in out, out
    # Docker's seccomp profile opens mount to CAP_SYS_ADMIN: compiled for the set
    code, out = await run(engine, "sh", "-c",
                          "mkdir -p /m && mount -t tmpfs none /m && echo mounted",
                          cap_add=["SYS_ADMIN"])
    assert code == 0 and "mounted" in out, out
    code, out = await run(engine, "sh", "-c", "mkdir -p /m; mount -t tmpfs none /m 2>&1; true")
    assert "mounted" not in out and ("denied" in out or "not permitted" in out), out


@pytest_root
async def test_init_reaps_orphans_and_passes_the_exit_code(engine: Engine) -> None:
    script = ("cat /proc/1/cmdline | tr '\\0' ' '; echo; (sleep 0 & echo $! > /tmp/orphan); "
              "o=$(cat /tmp/orphan); for i in $(seq 200); do [ -e /proc/$o ] || break; "
              "sleep 0.05; done; [ -e /proc/$o ] && echo ZOMBIE $o; exit 7")
    code, out = await run(engine, "sh", "-c", script, init=True)
    assert code == 7, out
    assert out.startswith("skiff-init -- sh -c"), out
    assert "ZOMBIE" not in out, out
    # without --init the same orphan stays a zombie: the shell is PID 1 and reaps no one
    code, out = await run(engine, "sh", "-c", script)
    assert code == 7 and "ZOMBIE" in out, out


@pytest_root
async def test_init_forwards_signals(engine: Engine) -> None:
    container = await engine.containers.create(config("sleep", "60", init=True))
    try:
        await engine.containers.start(container.id)
        await engine.containers.stop(container.id, timeout=30)
        code = await engine.containers.wait(container.id)
        assert code == 143  # sleep died of the SIGTERM the reaper passed on
    finally:
        await engine.containers.remove(container.id, force=True)


@pytest_root
async def test_read_only_root_with_writable_mounts(engine: Engine) -> None:
    script = ("touch /x 2>&1; touch /tmp/x 2>&1 && echo tmp-ok; "
              "touch /dev/shm/x && echo shm-ok; cd /work && echo cwd-ok")
    code, out = await run(engine, "sh", "-c", script, read_only=True, working_dir="/work",
                          mounts=[__import__("engine").MountSpec("tmpfs", "/tmp")])
    assert code == 0, out
    assert "Read-only file system" in out and "tmp-ok" in out and "shm-ok" in out
    assert "cwd-ok" in out


@pytest_root
async def test_shm_size_ulimits_sysctls_and_cpu_shares(engine: Engine) -> None:
    script = ("df -k /dev/shm | tail -1; ulimit -n; ulimit -Hn; "
              "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni")
    code, out = await run(engine, "sh", "-c", script, shm_size=128 << 20,
                          ulimits=[Ulimit("nofile", 512, 1024)],
                          sysctls={"net.ipv4.ip_forward": "1", "kernel.shmmni": "1024"})
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split()[1] == str(128 * 1024), out
    assert lines[1:5] == ["512", "1024", "1", "1024"], out


@pytest_root
async def test_cpu_shares_weigh_the_cgroup(engine: Engine) -> None:
    from engine.cgroups import open_cgroup
    from engine.cgroups.cpu import weight

    container = await engine.containers.create(config("sleep", "60",
                                                      resources=Resources(cpu_shares=512)))
    try:
        await engine.containers.start(container.id)
        cgroup = open_cgroup(container.id, os.environ["SKIFF_CGROUP_PARENT"])
        if cgroup.version == 2:
            found = (cgroup.paths["unified"] / "cpu.weight").read_text().strip()
            assert found == str(weight(512)) == "20"
        else:
            assert (cgroup.paths["cpu"] / "cpu.shares").read_text().strip() == "512"
        # docker update -c: at once, and in inspect
        await engine.containers.update(container.id, cpu_shares=2048)
        if cgroup.version == 2:
            found = (cgroup.paths["unified"] / "cpu.weight").read_text().strip()
            assert found == str(weight(2048)) == "79"
        else:
            assert (cgroup.paths["cpu"] / "cpu.shares").read_text().strip() == "2048"
        await engine.containers.update(container.id, memory=64 << 20)  # shares stay
        found = (await engine.containers.inspect(container.id)).docker_json()
        assert found["HostConfig"]["CpuShares"] == 2048
    finally:
        await engine.containers.remove(container.id, force=True)


def test_the_helper_s_schema_takes_only_namespaced_sysctls_and_known_names() -> None:
    from engine.wire.containerspec import CAPABILITY, SCHEMA, SYSCTL

    assert re.match(SYSCTL, "net.ipv4.ip_forward=1")
    assert re.match(SYSCTL, "fs.mqueue.msg_max=20")
    for bad in ("kernel.panic=1", "kernel.hostname=x", "vm.swappiness=1", "net.ipv4=1\n",
                "fs.file-max=1"):
        assert not re.match(SYSCTL, bad), bad
    assert re.match(CAPABILITY, "CAP_SYS_ADMIN") and not re.match(CAPABILITY, "SYS_ADMIN")
    assert SCHEMA["ulimits"].items is not None
    assert "fsize" in (SCHEMA["ulimits"].items["name"].choices or ())


@pytest_root
async def test_a_device_is_the_host_s_node(engine: Engine, tmp_path: os.PathLike[str]) -> None:
    import stat as st
    from pathlib import Path

    node = Path(tmp_path) / "mynull"
    os.mknod(node, 0o600 | st.S_IFCHR, os.makedev(1, 3))  # a null device of our own
    script = ("ls -ln /dev/mine | cut -c1; echo hi > /dev/mine && echo wrote; "
              "wc -c < /dev/mine")
    code, out = await run(engine, "sh", "-c", script,
                          devices=[DeviceMapping(str(node), "/dev/mine", "rwm")])
    assert code == 0, out
    assert out.split() == ["c", "wrote", "0"], out
    with pytest.raises(InvalidArgument, match="not a device node"):
        await run(engine, "true", devices=[DeviceMapping(str(tmp_path), "/dev/x", "rwm")])


@pytest_root
async def test_a_mac_address_on_the_bridge(engine: Engine) -> None:
    mac = "02:42:ac:11:fe:01"
    container = await engine.containers.create(config("sleep", "60", mac_address=mac))
    try:
        await engine.containers.start(container.id)
        found = (await engine.containers.inspect(container.id)).docker_json()
        assert found["NetworkSettings"]["MacAddress"] == mac
        assert found["Config"]["MacAddress"] == mac
        code, out = await run(engine, "cat", "/sys/class/net/eth0/address",
                              mac_address="02:42:ac:11:fe:02")
        assert code == 0 and out.strip() == "02:42:ac:11:fe:02", out
        with pytest.raises(InvalidArgument, match="unicast"):
            await run(engine, "true", mac_address="01:00:5e:00:00:01")
        from engine.errors import SkiffError
        with pytest.raises(SkiffError, match="already in use"):
            await run(engine, "true", mac_address=mac)
    finally:
        await engine.containers.remove(container.id, force=True)
    with pytest.raises(InvalidArgument, match="mac-address and the network mode"):
        await run(engine, "true", mac_address=mac, network="host")


@pytest_root
async def test_an_exec_gets_the_container_s_ulimits(engine: Engine) -> None:
    from tests.engine.helper.seccomp.test_seccomp import exec_output

    container = await engine.containers.create(config("sleep", "60",
                                                      ulimits=[Ulimit("nofile", 300, 400)]))
    try:
        await engine.containers.start(container.id)
        out = await exec_output(engine, container.id, "sh", "-c", "ulimit -n; ulimit -Hn")
        assert out.split() == ["300", "400"], out
    finally:
        await engine.containers.remove(container.id, force=True)


def test_cpu_shares_are_cpu_weight_on_v2_and_cpu_shares_on_v1() -> None:
    from pathlib import Path

    from engine.cgroups import CgroupSetup, Limits
    from engine.cgroups.plan import Write
    from engine.helper.cgroups import V1Cgroup, V2Cgroup

    v2 = CgroupSetup(Path("/cg"), {}, Path("/cg"), frozenset({"memory", "cpu", "pids"}))
    v1 = CgroupSetup(Path("/cg"), {"cpu": Path("/cg/cpu")})
    plan = V2Cgroup("c1", "skiff", v2).plan_update(Limits(cpu_shares=1024))
    assert Write(Path("/cg/skiff/c1/cpu.weight"), "39", "cpu") in plan
    plan = V1Cgroup("c1", "skiff", v1).plan_update(Limits(cpu_shares=1024))
    assert Write(Path("/cg/cpu/skiff/c1/cpu.shares"), "1024", "cpu") in plan
    untouched = V2Cgroup("c1", "skiff", v2).plan_update(Limits())
    assert not [w for w in untouched if w.path.name == "cpu.weight"]


@pytest_root
async def test_a_health_probe_gets_the_container_s_ulimits(engine: Engine) -> None:
    import asyncio

    from engine.containers.health import Healthcheck
    from tests.engine.helper.runtime.test_health import _told

    check = Healthcheck(["CMD-SHELL", "[ $(ulimit -Hn) = 400 ]"], interval=100_000_000,
                        retries=1)
    container = await engine.containers.create(config(
        "sleep", "60", ulimits=[Ulimit("nofile", 300, 400)], healthcheck=check))
    try:
        await engine.containers.start(container.id)
        await asyncio.wait_for(_told(engine, container.id, "health_status: healthy"), 30)
    finally:
        await engine.containers.remove(container.id, force=True)
