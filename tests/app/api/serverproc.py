"""A real ``skiff serve`` process on a private socket, for tests that drive it
with real clients (docker-py, the docker CLI, docker compose).

It runs on the session's SKIFF_ROOT (tests/fixtures/engine.py), as a separate
process so that synchronous clients can talk to it while the test waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["api_socket", "docker_env"]

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def api_socket(busybox_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The socket path of a running ``skiff serve``; the server stops afterwards."""
    sock = tmp_path_factory.mktemp("api") / "docker.sock"
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host",
                             f"unix://{sock}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Serving the Docker Engine API on …" once it listens
    if "Serving" not in line:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"skiff serve did not start: {line}{err}")
    try:
        yield sock
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def docker_env(sock: Path, config: Path) -> dict[str, str]:
    """The environment a docker CLI (or compose) needs to reach ``sock`` only."""
    env = dict(os.environ)
    env.update({"DOCKER_HOST": f"unix://{sock}", "DOCKER_CONFIG": str(config),
                "DOCKER_CLI_HINTS": "false", "DOCKER_BUILDKIT": "0"})
    env.pop("DOCKER_CONTEXT", None)
    return env
