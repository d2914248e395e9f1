"""Ports published on [::1] (``-p [::1]:PORT:80``), which no DNAT rule can take: the
monitor relays them (engine/helper/runtime/loopproxy.py). Through the real docker
CLI (28.x) against ``skiff serve``, on real containers, fetched from the host."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from collections.abc import Callable

import pytest

from engine.helper.runtime.loopproxy import loopback_ports

pytestmark = pytest.mark.root

Docker = Callable[..., subprocess.CompletedProcess[str]]

_SERVE = "echo hello from the container > /tmp/index.html && httpd -f -p 80 -h /tmp"


def _free_port() -> int:
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
        return int(probe.getsockname()[1])


def _fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://[::1]:{port}/index.html", timeout=10) as answer:
        return str(answer.read().decode())


def _listened(port: int) -> bool:
    """Whether something listens on [::1]:port (a connection is refused otherwise)."""
    with socket.socket(socket.AF_INET6) as probe:
        try:
            probe.connect(("::1", port))
        except ConnectionRefusedError:
            return False
    return True


def test_a_port_on_ipv6_loopback_reaches_the_container(docker_cli: Docker) -> None:
    port = _free_port()
    started = docker_cli("run", "-d", "--name", "apilo-web", "-p", f"[::1]:{port}:80",
                         "busybox", "sh", "-c", _SERVE)
    assert started.returncode == 0, started.stderr
    try:
        shown = docker_cli("port", "apilo-web")
        assert shown.stdout.strip() == f"80/tcp -> [::1]:{port}"
        found = json.loads(docker_cli("inspect", "apilo-web").stdout)[0]
        assert found["NetworkSettings"]["Ports"]["80/tcp"] == [{"HostIp": "::1",
                                                                "HostPort": str(port)}]
        for _ in range(50):  # httpd listens a moment after the start: retried, not timed
            try:
                assert _fetch(port) == "hello from the container\n"
                break
            except OSError:
                continue
        else:
            pytest.fail(f"nothing answered on [::1]:{port}")
        stopped = docker_cli("stop", "-t", "1", "apilo-web")
        assert stopped.returncode == 0, stopped.stderr
        assert not _listened(port)  # the relay ended with the container's network
        again = docker_cli("start", "apilo-web")
        assert again.returncode == 0, again.stderr
        assert _listened(port)
    finally:
        docker_cli("rm", "-f", "apilo-web")
    assert not _listened(port)


def test_udp_on_ipv6_loopback_is_refused(docker_cli: Docker) -> None:
    result = docker_cli("run", "--rm", "-p", "[::1]:5353:53/udp", "busybox", "true")
    assert result.returncode != 0
    assert "cannot publish udp on [::1]: Skiff relays TCP only there" in result.stderr


def test_the_relay_reads_its_ports_from_network_json() -> None:
    settings = {"IPAddress": "10.88.0.5", "Ports": {
        "80/tcp": [{"HostIp": "::1", "HostPort": "8080"}, {"HostIp": "", "HostPort": "81"}],
        "53/udp": [{"HostIp": "::1", "HostPort": "5353"}], "443/tcp": None}}
    assert loopback_ports(settings) == [(8080, "10.88.0.5", 80)]
    assert loopback_ports({"Ports": {}}) == []


def test_a_disconnected_address_is_not_reached_through_the_relay(docker_cli: Docker) -> None:
    """The relay connects from inside the container's network namespace: once the
    container is off the network, its old address (here another container's at once)
    is not reached through [::1]."""
    port = _free_port()
    made = docker_cli("network", "create", "--subnet", "10.231.99.0/24", "apilo-net")
    assert made.returncode == 0, made.stderr
    try:
        first = docker_cli("run", "-d", "--name", "apilo-a", "--network", "apilo-net",
                           "--ip", "10.231.99.5", "-p", f"[::1]:{port}:80", "busybox",
                           "sh", "-c", _SERVE)
        assert first.returncode == 0, first.stderr
        gone = docker_cli("network", "disconnect", "apilo-net", "apilo-a")
        assert gone.returncode == 0, gone.stderr
        second = docker_cli("run", "-d", "--name", "apilo-b", "--network", "apilo-net",
                            "--ip", "10.231.99.5", "busybox", "sh", "-c",
                            "echo other > /tmp/index.html && httpd -f -p 80 -h /tmp")
        assert second.returncode == 0, second.stderr
        for _ in range(50):  # it serves, on the address apilo-a had (once httpd listens)
            answered = docker_cli("exec", "apilo-b", "wget", "-q", "-O-",
                                  "http://10.231.99.5/")
            if answered.stdout == "other\n":
                break
        else:
            pytest.fail("apilo-b does not serve")
        with pytest.raises(OSError):
            _fetch(port)
    finally:
        docker_cli("rm", "-f", "apilo-a", "apilo-b")
        docker_cli("network", "rm", "apilo-net")
