"""docker compose v2 (through ``skiff serve``) and ``skiff compose`` with an IPv6 network:
``enable_ipv6`` with an IPv6 ipam config, a service at its ``ipv6_address``, another that
reaches it there, and down leaving nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.app.api.test_compose import Compose, compose  # noqa: F401 (the fixture)
from tests.fixtures.apiserver import ApiServer

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not Path("/proc/sys/net/ipv6").exists(), reason="needs IPv6")]

REPO = Path(__file__).resolve().parents[3]


def _project(directory: Path, name: str, prefix: str) -> None:
    (directory / "compose.yaml").write_text(textwrap.dedent(f"""\
        name: {name}
        services:
          web:
            image: busybox
            command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
            networks:
              v6:
                ipv6_address: {prefix}::10
          probe:
            image: busybox
            command: ["sh", "-c", "until wget -q -O- http://[{prefix}::10]:8080/hostname;
                      do sleep 0.2; done; ip -6 route show default"]
            depends_on: [web]
            networks: [v6]
        networks:
          v6:
            enable_ipv6: true
            ipam:
              config:
                - subnet: 10.231.{71 if name.startswith("docker") else 72}.0/24
                - subnet: {prefix}::/64
        """))


def test_docker_compose_brings_up_an_ipv6_project(compose: Compose,  # noqa: F811
                                                  api_server: ApiServer,
                                                  tmp_path: Path) -> None:
    _project(tmp_path, "dockerv6", "fd5a:1:2:71")
    compose("up", "-d")
    network = json.loads(api_server.docker("network", "inspect", "dockerv6_v6").stdout)[0]
    assert network["EnableIPv6"] is True
    assert network["IPAM"]["Config"][1]["Subnet"] == "fd5a:1:2:71::/64"
    web = json.loads(api_server.docker("inspect", "dockerv6-web-1").stdout)[0]
    assert web["NetworkSettings"]["Networks"]["dockerv6_v6"]["GlobalIPv6Address"] == \
        "fd5a:1:2:71::10"
    hostname = web["Config"]["Hostname"]
    assert api_server.docker("wait", "dockerv6-probe-1", timeout=120).stdout.strip() == "0"
    logs = compose("logs", "--no-log-prefix", "probe")
    assert hostname in logs.stdout, logs.stdout + logs.stderr
    assert "default via fd5a:1:2:71::1 dev eth0" in logs.stdout
    again = compose("up", "-d", "web")  # the network as compose wants it: nothing to redo
    assert "Recreate" not in again.stderr and "Created" not in again.stderr, again.stderr
    compose("down", "-t", "1")
    assert "dockerv6_v6" not in api_server.docker("network", "ls").stdout


def test_skiff_compose_brings_up_an_ipv6_project(api_server: ApiServer,
                                                 tmp_path: Path) -> None:
    _project(tmp_path, "skiffv6", "fd5a:1:2:72")

    def skiff_compose(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "app.cli", "compose", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=240,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 0, done.stderr
        return done

    skiff_compose("up", "-d")
    try:
        web = json.loads(api_server.docker("inspect", "skiffv6-web-1").stdout)[0]
        settings = web["NetworkSettings"]["Networks"]["skiffv6_v6"]
        assert settings["GlobalIPv6Address"] == "fd5a:1:2:72::10"
        assert settings["IPAMConfig"]["IPv6Address"] == "fd5a:1:2:72::10"
        assert api_server.docker("wait", "skiffv6-probe-1", timeout=120).stdout.strip() == "0"
        logs = skiff_compose("logs", "--no-log-prefix", "probe")
        assert web["Config"]["Hostname"] in logs.stdout
    finally:
        skiff_compose("down", "-t", "1")
