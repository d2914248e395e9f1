"""IPv6 networks through the real docker CLI (28.x) and ``skiff serve``: addresses and
routes in the container, container to container, inspect's fields, and docker-py's
way of asking for them."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not Path("/proc/sys/net/ipv6").exists(), reason="needs IPv6")]

Docker = Callable[..., subprocess.CompletedProcess[str]]
SUBNET6 = "fd5a:1:2:3::/64"


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: {result.stderr}"
    return result.stdout


def test_an_ipv6_network_through_the_docker_cli(docker_cli: Docker) -> None:
    _ok(docker_cli("network", "create", "--ipv6", "--subnet", "10.231.61.0/24",
                   "--subnet", SUBNET6, "--gateway", "fd5a:1:2:3::fe", "cli-v6"))
    try:
        network = json.loads(_ok(docker_cli("network", "inspect", "cli-v6")))[0]
        assert network["EnableIPv6"] is True
        assert network["IPAM"]["Config"] == [
            {"Subnet": "10.231.61.0/24", "Gateway": "10.231.61.1"},
            {"Subnet": SUBNET6, "Gateway": "fd5a:1:2:3::fe"}]
        listed = _ok(docker_cli("network", "ls", "--filter", "name=cli-v6", "--format",
                                "{{.Name}} {{.IPv6}}"))
        assert listed.split() == ["cli-v6", "true"]
        _ok(docker_cli("run", "-d", "--name", "cli-v6-web", "--network", "cli-v6",
                       "--ip6", "fd5a:1:2:3::99", "-p", "8080", "busybox", "httpd", "-f",
                       "-p", "8080", "-h", "/etc"))
        web = json.loads(_ok(docker_cli("inspect", "cli-v6-web")))[0]
        settings = web["NetworkSettings"]["Networks"]["cli-v6"]
        assert (settings["GlobalIPv6Address"], settings["GlobalIPv6PrefixLen"],
                settings["IPv6Gateway"]) == ("fd5a:1:2:3::99", 64, "fd5a:1:2:3::fe")
        assert settings["IPAMConfig"] == {"IPv6Address": "fd5a:1:2:3::99"}
        assert settings["IPAddress"].startswith("10.231.61.")
        # another container reaches it over IPv6, by address and by name, with its own
        # address and route in place before its process starts
        out = _ok(docker_cli(
            "run", "--rm", "--network", "cli-v6", "busybox", "sh", "-c",
            "ip -6 -o addr show dev eth0 scope global; ip -6 route show default; "
            "wget -q -O- 'http://[fd5a:1:2:3::99]:8080/hostname'; grep cli-v6-web /etc/hosts"))
        assert "inet6 fd5a:1:2:3::1/64" in out  # the first free one (the gateway is ::fe)
        assert "default via fd5a:1:2:3::fe dev eth0" in out
        assert web["Config"]["Hostname"] in out
        assert "fd5a:1:2:3::99\tcli-v6-web" in out
        # published on the host's IPv6 addresses too (the bridge's is one of them)
        published = _ok(docker_cli("port", "cli-v6-web", "8080")).split()
        assert published[0].startswith("0.0.0.0:") and published[1].startswith("[::]:")
        port = published[0].rpartition(":")[2]
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(f"http://[fd5a:1:2:3::fe]:{port}/hostname", timeout=30) as answer:
            assert answer.read().decode().strip() == web["Config"]["Hostname"]
        endpoint = _containers(docker_cli)["cli-v6-web"]
        assert endpoint["IPv6Address"] == "fd5a:1:2:3::99/64"
        taken = docker_cli("run", "--rm", "--network", "cli-v6", "--ip6", "fd5a:1:2:3::99",
                           "busybox", "true")
        assert taken.returncode != 0 and "fd5a:1:2:3::99 is already in use" in taken.stderr
    finally:
        docker_cli("rm", "-f", "cli-v6-web")
        _ok(docker_cli("network", "rm", "cli-v6"))


def _containers(docker_cli: Docker) -> dict[str, dict[str, Any]]:
    network = json.loads(_ok(docker_cli("network", "inspect", "cli-v6")))[0]
    return {c["Name"]: c for c in network["Containers"].values()}


def test_ipv6_through_docker_py(docker_client: Any) -> None:
    """As docker-py's own integration tests ask for it (api_network_test.py): a global
    prefix (root's), an IPv6 range and gateway, an address asked at create and at a
    connect after a disconnect."""
    import docker

    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(
        subnet="2001:389::/64", iprange="2001:389::0/96", gateway="2001:389::ffff")])
    network = docker_client.networks.create("py-v6", enable_ipv6=True, ipam=ipam)
    try:
        assert network.attrs["EnableIPv6"] is True
        assert network.attrs["IPAM"]["Config"][1] == {
            "Subnet": "2001:389::/64", "Gateway": "2001:389::ffff", "IPRange": "2001:389::/96"}
        container = docker_client.containers.run(
            "busybox", ["sleep", "30"], name="py-v6-c", detach=True, network="py-v6")
        try:
            container.reload()
            settings = container.attrs["NetworkSettings"]["Networks"]["py-v6"]
            assert settings["GlobalIPv6Address"] == "2001:389::1"  # the range's first
            network.disconnect(container)
            network.connect(container, ipv6_address="2001:389::f00d")
            container.reload()
            settings = container.attrs["NetworkSettings"]["Networks"]["py-v6"]
            assert settings["GlobalIPv6Address"] == "2001:389::f00d"
            assert settings["IPAMConfig"]["IPv6Address"] == "2001:389::f00d"
            code, out = container.exec_run(["ip", "-6", "-o", "addr", "show", "scope",
                                            "global"])
            assert code == 0 and b"2001:389::f00d/64" in out
        finally:
            container.remove(force=True)
    finally:
        network.remove()
