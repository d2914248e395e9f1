"""Networks through the real docker CLI (28.x) and ``skiff serve``: addresses chosen at
create, several networks at once, internal networks, address ranges."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable

import pytest

pytestmark = pytest.mark.root

Docker = Callable[..., subprocess.CompletedProcess[str]]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: {result.stderr}"
    return result.stdout


def test_run_with_an_address_on_two_networks(docker_cli: Docker) -> None:
    _ok(docker_cli("network", "create", "--subnet", "10.231.51.0/24", "clinet-a"))
    _ok(docker_cli("network", "create", "--subnet", "10.231.52.0/24", "clinet-b"))
    try:
        # docker 28 sends both networks in one create (EndpointsConfig): each address
        # is there when the process starts.
        out = _ok(docker_cli("run", "--rm", "--network", "name=clinet-a,ip=10.231.51.7",
                             "--network", "name=clinet-b,ip=10.231.52.8,alias=bee",
                             "busybox", "ip", "-4", "-o", "addr", "show"))
        assert "10.231.51.7/24" in out and "10.231.52.8/24" in out
        _ok(docker_cli("run", "-d", "--name", "clinet-c", "--network", "clinet-a",
                       "--ip", "10.231.51.9", "busybox", "sleep", "30"))
        found = json.loads(_ok(docker_cli("inspect", "clinet-c")))[0]
        settings = found["NetworkSettings"]["Networks"]["clinet-a"]
        assert settings["IPAddress"] == "10.231.51.9"
        assert settings["IPAMConfig"]["IPv4Address"] == "10.231.51.9"
        taken = docker_cli("run", "--rm", "--network", "clinet-a", "--ip", "10.231.51.9",
                           "busybox", "true")
        assert taken.returncode != 0 and "10.231.51.9 is already in use" in taken.stderr
        bridge = docker_cli("run", "--rm", "--ip", "10.88.0.50", "busybox", "true")
        assert "supported on user defined networks only" in bridge.stderr
    finally:
        docker_cli("rm", "-f", "clinet-c")
        docker_cli("network", "rm", "clinet-a", "clinet-b")


def test_an_internal_network_with_an_ip_range(docker_cli: Docker) -> None:
    _ok(docker_cli("network", "create", "--internal", "--subnet", "10.231.53.0/24",
                   "--ip-range", "10.231.53.32/28", "--label", "team=nets", "clinet-in"))
    try:
        [found] = json.loads(_ok(docker_cli("network", "inspect", "clinet-in")))
        assert found["Internal"] is True and found["Labels"] == {"team": "nets"}
        assert found["IPAM"]["Config"] == [{"Subnet": "10.231.53.0/24",
                                            "Gateway": "10.231.53.1",
                                            "IPRange": "10.231.53.32/28"}]
        listed = _ok(docker_cli("network", "ls", "--filter", "name=clinet-in",
                                "--format", "{{.Name}} {{.Internal}}"))
        assert listed.split() == ["clinet-in", "true"]
        out = _ok(docker_cli("run", "--rm", "--network", "clinet-in", "busybox", "sh", "-c",
                             "ip route; ip -4 -o addr show eth0"))
        assert "default" not in out and "inet 10.231.53.3" in out
    finally:
        docker_cli("network", "rm", "clinet-in")


def test_run_with_a_legacy_link(docker_cli: Docker) -> None:
    _ok(docker_cli("run", "-d", "--name", "clinet-db", "--expose", "80", "-e", "SECRET=s=1",
                   "busybox", "sh", "-c", "echo hi > /i && exec httpd -f -p 80 -h /"))
    try:
        out = _ok(docker_cli("run", "--rm", "--link", "clinet-db:db", "busybox", "sh", "-c",
                             "for i in $(seq 20); do wget -q -O - http://db/i && exit; "
                             "sleep 0.2; done"))
        assert out == "hi\n"
        address = _ok(docker_cli("inspect", "-f", "{{.NetworkSettings.IPAddress}}",
                                 "clinet-db")).strip()
        _ok(docker_cli("run", "-d", "--name", "clinet-web", "--link", "clinet-db:db",
                       "-e", "DB_ENV_SECRET=mine", "busybox", "sh", "-c", "env; sleep 60"))
        # docker's legacy variables, under the container's own; an exec has them too
        printed = ""
        deadline = time.monotonic() + 30
        while "DB_NAME" not in printed and time.monotonic() < deadline:
            printed = _ok(docker_cli("logs", "clinet-web"))
        for shown in (printed, _ok(docker_cli("exec", "clinet-web", "env"))):
            variables = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
            assert variables["DB_PORT"] == f"tcp://{address}:80"
            assert variables["DB_PORT_80_TCP_ADDR"] == address
            assert variables["DB_PORT_80_TCP_PROTO"] == "tcp"
            assert variables["DB_NAME"] == "/clinet-web/db"
            assert variables["DB_ENV_SECRET"] == "mine"
            assert "DB_ENV_PATH" not in variables and variables["PATH"].startswith("/")
        missing = docker_cli("run", "--rm", "--link", "clinet-nobody:xy", "busybox", "true")
        assert missing.returncode != 0 and "clinet-nobody" in missing.stderr
    finally:
        docker_cli("rm", "-f", "clinet-web", "clinet-db")
