"""Docker's host options through the API: read from a create body, applied in a real
container by the real docker CLI's ``run``, shown by ``inspect`` as dockerd shows them."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.api.createbody import container_config
from app.api.errors import ApiError
from engine.containers.config import DeviceMapping, Ulimit
from tests.app.api.test_compose import compose  # noqa: F401  (a fixture)

Docker = Callable[..., subprocess.CompletedProcess[str]]


def test_the_host_options_are_read_whole() -> None:
    config = container_config({"Image": "busybox", "HostConfig": {
        "Dns": ["192.0.2.53"], "DnsSearch": ["example.test"], "DnsOptions": ["ndots:2"],
        "ExtraHosts": ["db:192.0.2.10"], "CapAdd": ["NET_ADMIN"], "CapDrop": ["CHOWN"],
        "Init": True, "ReadonlyRootfs": True, "ShmSize": 1 << 27, "CpuShares": 512,
        "Ulimits": [{"Name": "nofile", "Soft": 512, "Hard": 1024}],
        "Sysctls": {"net.ipv4.ip_forward": "1"},
        "Devices": [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/f",
                     "CgroupPermissions": "r"}, {"PathOnHost": "/dev/net/tun"}]}})
    assert (config.dns, config.dns_search, config.dns_options) == (
        ["192.0.2.53"], ["example.test"], ["ndots:2"])
    assert config.extra_hosts == ["db:192.0.2.10"]
    assert (config.cap_add, config.cap_drop) == (["NET_ADMIN"], ["CHOWN"])
    assert config.init is True and config.read_only and config.shm_size == 1 << 27
    assert config.resources.cpu_shares == 512
    assert config.ulimits == [Ulimit("nofile", 512, 1024)]
    assert config.sysctls == {"net.ipv4.ip_forward": "1"}
    assert config.devices == [DeviceMapping("/dev/fuse", "/dev/f", "r"),
                              DeviceMapping("/dev/net/tun", "/dev/net/tun", "rwm")]
    old_style = container_config({"Image": "busybox", "MacAddress": "02:42:ac:11:00:09"})
    assert old_style.mac_address == "02:42:ac:11:00:09"
    new_style = container_config({"Image": "busybox", "HostConfig": {"NetworkMode": "web"},
                                  "NetworkingConfig": {"EndpointsConfig": {
                                      "web": {"MacAddress": "02:42:ac:11:00:0a"}}}})
    assert new_style.mac_address == "02:42:ac:11:00:0a"
    plain = container_config({"Image": "busybox", "HostConfig": {"Init": None}})
    assert plain.init is None and plain.ulimits == [] and plain.sysctls == {}


@pytest.mark.parametrize(("host", "message"), [
    ({"Init": "yes"}, "HostConfig.Init of type bool"),
    ({"Ulimits": ["nofile=1"]}, "HostConfig.Ulimits of type struct"),
    ({"Dns": "192.0.2.53"}, r"HostConfig.Dns of type \[\]string"),
    ({"Devices": [{"PathInContainer": "/dev/kvm"}]}, "invalid HostConfig.Devices entry"),
])
def test_bad_host_options_are_refused(host: dict[str, object], message: str) -> None:
    with pytest.raises(ApiError, match=message):
        container_config({"Image": "busybox", "HostConfig": host})


@pytest.mark.root
def test_docker_run_with_host_options(docker_cli: Docker) -> None:
    script = ("cat /etc/resolv.conf /etc/hosts; ulimit -n; cat /proc/sys/net/ipv4/ip_forward; "
              "grep CapEff /proc/self/status; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
              "touch /x 2>&1; df -k /dev/shm | tail -1")
    result = docker_cli("run", "--name", "api-hostopts", "--dns", "192.0.2.53",
                        "--dns-search", "example.test", "--add-host", "db:192.0.2.10",
                        "--cap-add", "NET_ADMIN", "--init", "--read-only", "--shm-size", "32m",
                        "--ulimit", "nofile=256:512", "--sysctl", "net.ipv4.ip_forward=1",
                        "--cpu-shares", "512", "busybox", "sh", "-c", script)
    try:
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "nameserver 192.0.2.53" in out and "search example.test" in out
        assert "192.0.2.10\tdb" in out
        lines = out.splitlines()
        assert "256" in lines and "skiff-init -- sh -c" in out
        assert "Read-only file system" in out
        assert str(32 * 1024) in lines[-1].split()
        effective = int(next(x for x in lines if x.startswith("CapEff")).split()[1], 16)
        assert effective & (1 << 12)  # CAP_NET_ADMIN
        inspect = docker_cli("inspect", "api-hostopts")
        assert inspect.returncode == 0, inspect.stderr
        host = json.loads(inspect.stdout)[0]["HostConfig"]
        assert host["Dns"] == ["192.0.2.53"] and host["DnsSearch"] == ["example.test"]
        assert host["ExtraHosts"] == ["db:192.0.2.10"]
        assert host["CapAdd"] == ["CAP_NET_ADMIN"] and host["Init"] is True
        assert host["ReadonlyRootfs"] is True and host["ShmSize"] == 32 << 20
        assert host["CpuShares"] == 512
        assert host["Ulimits"] == [{"Name": "nofile", "Soft": 256, "Hard": 512}]
        assert host["Sysctls"] == {"net.ipv4.ip_forward": "1"}
        updated = docker_cli("update", "--cpu-shares", "256", "api-hostopts")
        assert updated.returncode == 0, updated.stderr
        again = docker_cli("inspect", "-f", "{{.HostConfig.CpuShares}}", "api-hostopts")
        assert again.stdout.strip() == "256"
    finally:
        docker_cli("rm", "-f", "api-hostopts")


@pytest.mark.root
def test_run_it_with_init_keeps_the_terminal(api_server: object) -> None:
    from tests.app.api.test_docker_cli import TYPED, _in_a_pty

    seen, code = _in_a_pty(api_server.env(), "run", "-it", "--rm", "--init",  # type: ignore[attr-defined]
                           "busybox", "sh", typed=TYPED, until=b"marker-42")
    assert b"marker-42" in seen and b"33 101" in seen, seen
    assert code == 4


@pytest.mark.root
def test_docker_py_s_host_options(docker_client: Any) -> None:
    import docker

    output = docker_client.containers.run(
        "busybox", ["sh", "-c", "cat /sys/class/net/eth0/address /proc/sys/kernel/msgmax; "
                    "ulimit -n; grep -w db /etc/hosts"],
        init=True, cap_add=["SYS_PTRACE"], dns=["192.0.2.53"], extra_hosts={"db": "192.0.2.9"},
        sysctls={"kernel.msgmax": "5000"}, mac_address="02:42:ac:11:00:0a",
        ulimits=[docker.types.Ulimit(name="nofile", soft=300, hard=400)], shm_size="8m",
        read_only=True, cpu_shares=256, name="api-dockerpy-hostopts")
    assert output.decode().split() == ["02:42:ac:11:00:0a", "5000", "300", "192.0.2.9", "db"]
    host = docker_client.containers.get("api-dockerpy-hostopts").attrs["HostConfig"]
    assert host["Init"] is True and host["CapAdd"] == ["CAP_SYS_PTRACE"]
    assert host["ShmSize"] == 8 << 20 and host["ReadonlyRootfs"] is True
    assert host["CpuShares"] == 256 and host["Sysctls"] == {"kernel.msgmax": "5000"}


@pytest.mark.root
def test_docker_compose_s_host_options(compose: Any,  # noqa: F811
                                       tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""\
        services:
          app:
            image: busybox
            command: ["sleep", "600"]
            init: true
            read_only: true
            cap_add: [NET_ADMIN]
            dns: [192.0.2.53]
            extra_hosts: ["db:192.0.2.10"]
            shm_size: 8m
            ulimits: {nofile: {soft: 256, hard: 512}}
            sysctls: {net.ipv4.ip_forward: "1"}
        """))
    compose("up", "-d")
    script = ("cat /proc/1/cmdline | tr '\\0' ' '; echo; ulimit -n; "
              "cat /proc/sys/net/ipv4/ip_forward; grep -w db /etc/hosts; touch /x 2>&1; true")
    out = compose("exec", "-T", "app", "sh", "-c", script).stdout
    lines = out.splitlines()
    assert lines[0].startswith("skiff-init -- sleep"), out  # as long as the title fits
    assert lines[1:4] == ["256", "1", "192.0.2.10\tdb"], out
    assert "Read-only file system" in out
