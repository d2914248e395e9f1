"""compose's Docker host options applied to real containers, no longer warned about as
ignored: dns, extra_hosts, cap_add, init, read_only, shm_size, ulimits, sysctls
(issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.cli.test_compose import compose, skiff

FILE = """
services:
  app:
    image: busybox:latest
    command: ["sleep", "600"]
    dns: 192.0.2.53
    dns_search: example.test
    extra_hosts: ["db=192.0.2.10"]
    cap_add: [NET_ADMIN]
    init: true
    read_only: true
    shm_size: 16m
    ulimits: {nofile: {soft: 256, hard: 512}}
    sysctls: {net.ipv4.ip_forward: 1}
"""


@pytest.mark.root
def test_each_host_option_reaches_the_container(busybox_image: str, tmp_path: Path) -> None:
    project = tmp_path / "hostopts"
    project.mkdir()
    (project / "compose.yaml").write_text(FILE)
    up = compose(project, "up", "-d")
    try:
        assert up.returncode == 0, up.stderr
        assert "is ignored" not in up.stderr, up.stderr

        def inside(script: str) -> str:
            done = compose(project, "exec", "-T", "app", "sh", "-c", script)
            assert done.returncode == 0, done.stderr
            return done.stdout

        assert "nameserver 192.0.2.53" in inside("cat /etc/resolv.conf")
        assert "192.0.2.10\tdb" in inside("cat /etc/hosts")
        assert inside("ulimit -n; ulimit -Hn").split() == ["256", "512"]
        assert inside("cat /proc/sys/net/ipv4/ip_forward") == "1\n"
        assert inside("cat /proc/1/cmdline | tr '\\\\0' ' '").startswith("skiff-init -- sleep")
        assert "Read-only" in inside("touch /x 2>&1; true")
        assert inside("ip link set lo mtu 1400 && echo ok") == "ok\n"
        host = json.loads(skiff("inspect", "hostopts-app-1").stdout)[0]["HostConfig"]
        assert host["ShmSize"] == 16 << 20 and host["Init"] is True
    finally:
        down = compose(project, "down")
    assert down.returncode == 0, down.stderr
