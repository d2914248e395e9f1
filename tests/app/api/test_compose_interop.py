"""docker compose (through ``skiff serve``) and ``skiff compose`` on one project: each sees
the other's containers as its own and recreates none that did not change, because both
write Compose's exact config hashes (containers, networks, volumes); a long project name
(container names over 63 characters, which docker compose gives each container as a
network alias) works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine import LoadOptions, load_project
from engine.compose.gojson import network_hash, volume_hash
from engine.compose.planner import config_hash
from tests.app.api.test_compose import Compose, compose  # noqa: F401 (the fixture)
from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]
NAME = "interop-a-project-with-a-long-name"
SERVICE = "the-service-with-a-long-name"


def skiff_compose(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "compose", *args], cwd=directory,
                          capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_neither_recreates_the_others_unchanged_containers(compose: Compose,  # noqa: F811
                                                           api_server: ApiServer,
                                                           tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("FROM_FILE=file\n")
    (tmp_path / ".env").write_text("FROM_DOTENV=dotenv\n")
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(f"""\
        name: {NAME}
        services:
          {SERVICE}:
            image: busybox
            command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
            env_file: [app.env]
            environment: [FROM_DOTENV, UNSET_HERE, "PLAIN=a&b"]
            volumes: ["data:/data", "./conf:/conf:ro"]
            healthcheck:
              test: ["CMD", "true"]
              interval: 1s
            stop_grace_period: 5s
          helper:
            image: busybox
            command: ["sleep", "600"]
            depends_on:
              {SERVICE}: {{condition: service_healthy}}
        volumes:
          data: {{labels: {{tier: data}}}}
        """))
    (tmp_path / "conf").mkdir()
    compose("up", "-d", "--wait", timeout=300)
    long_name = f"{NAME}-{SERVICE}-1"
    assert len(long_name) > 63
    labels = json.loads(api_server.docker("inspect", long_name).stdout)[0]["Config"]["Labels"]
    project = load_project(LoadOptions(workdir=tmp_path, environ=dict(os.environ)))
    assert labels["com.docker.compose.config-hash"] == config_hash(project.services[SERVICE])
    network = json.loads(api_server.docker("network", "inspect", f"{NAME}_default").stdout)[0]
    assert network["Labels"]["com.docker.compose.config-hash"] == \
        network_hash(project.networks["default"])
    volume = json.loads(api_server.docker("volume", "inspect", f"{NAME}_data").stdout)[0]
    assert volume["Labels"]["com.docker.compose.config-hash"] == \
        volume_hash(project.volumes["data"])

    ours = skiff_compose(tmp_path, "up", "-d")
    assert ours.returncode == 0, ours.stderr
    assert "Recreate" not in ours.stderr and "Creat" not in ours.stderr, ours.stderr
    assert f" Container {long_name}  Running" in ours.stderr

    # skiff compose recreates one after a change; docker compose then leaves it be
    (tmp_path / "compose.yaml").write_text((tmp_path / "compose.yaml").read_text()
                                           .replace("stop_grace_period: 5s",
                                                    "stop_grace_period: 6s"))
    changed = skiff_compose(tmp_path, "up", "-d", "--no-deps", SERVICE)
    assert f" Container {long_name}  Recreated" in changed.stderr, changed.stderr
    theirs = compose("up", "-d", "--wait", timeout=300)
    assert "Recreate" not in theirs.stderr, theirs.stderr
    down = skiff_compose(tmp_path, "down", "-v", "-t", "1")
    assert down.returncode == 0, down.stderr
