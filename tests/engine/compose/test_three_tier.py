"""examples/three-tier brought up and down with real containers (issue 15)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.cli import skiff

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "three-tier"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def compose(*args: str, env: dict[str, str] | None = None, cwd: Path = EXAMPLE
            ) -> subprocess.CompletedProcess[str]:
    return skiff("compose", *args, cwd=cwd, timeout=240, env={**os.environ, **(env or {})})


def test_three_tiers_answer_through_the_proxy_and_down_leaves_nothing(busybox_image: str
                                                                       ) -> None:
    port = _free_port()
    env = {"PROXY_PORT": str(port)}
    up = compose("up", "-d", "--wait", env=env)
    try:
        assert up.returncode == 0, up.stderr
        assert " Container three-tier-db-1  Healthy" in up.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/cgi-bin/record", timeout=30) as r:
            body = r.read().decode()
        assert body == "proxy passes on: app tier says: record 1: Ada Lovelace wrote the " \
            "first program\n"
        ps = compose("ps", "--format", "json", env=env)
        rows = [json.loads(line) for line in ps.stdout.splitlines()]
        assert sorted(r["Name"] for r in rows) == ["three-tier-app-1", "three-tier-db-1",
                                                   "three-tier-proxy-1"]
        health = {r["Service"]: (r["Health"], r["Status"]) for r in rows}
        assert health["db"][0] == health["app"][0] == "healthy"
        assert "(healthy)" in health["app"][1] and health["proxy"][0] == ""
        labelled = skiff("ps", "--filter", "label=com.docker.compose.project=three-tier",
                         "--format", "{{.Names}}")
        assert sorted(labelled.stdout.split()) == sorted(r["Name"] for r in rows)
        volumes = skiff("volume", "ls", "-q", "--filter",
                        "label=com.docker.compose.project=three-tier")
        assert volumes.stdout.split() == ["three-tier_records"]
        networks = skiff("network", "ls", "--format", "{{.Name}}", "--filter",
                         "label=com.docker.compose.project=three-tier")
        assert networks.stdout.split() == ["three-tier_default"]
        # up again: nothing changed, nothing recreated
        again = compose("up", "-d", env=env)
        assert again.returncode == 0, again.stderr
        assert "Recreate" not in again.stderr and "Created" not in again.stderr
        assert " Container three-tier-db-1  Running" in again.stderr
        # a changed service is recreated, the others are left alone
        changed = compose("up", "-d", "--no-deps", "proxy", env={"PROXY_PORT": str(
            _free_port())})
        assert changed.returncode == 0, changed.stderr
        assert " Container three-tier-proxy-1  Recreated" in changed.stderr
        assert "three-tier-db-1" not in changed.stderr
        # the project is found by its labels without its files, as Compose finds it
        elsewhere = compose("-p", "three-tier", "ps", "--format", "{{.Name}}", cwd=REPO)
        assert sorted(elsewhere.stdout.split()) == sorted(r["Name"] for r in rows)
    finally:
        down = compose("-p", "three-tier", "down", "-v", cwd=REPO)
    assert down.returncode == 0, down.stderr
    assert " Volume three-tier_records  Removed" in down.stderr
    assert " Network three-tier_default  Removed" in down.stderr
    left = skiff("ps", "-a", "--filter", "label=com.docker.compose.project=three-tier", "-q")
    assert left.stdout == ""
    assert "three-tier" not in skiff("volume", "ls", "-q").stdout
    assert "three-tier" not in skiff("network", "ls").stdout
