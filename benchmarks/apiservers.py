"""What the benchmarks that start Docker API servers (skiff serve, a private dockerd)
share: the docker CLI pointed at one, waiting until it answers, stopping it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

__all__ = ["docker", "ready", "stop"]


def docker(sock: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The docker CLI against the server on ``sock`` (its config beside the socket)."""
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}",
           "DOCKER_CONFIG": str(sock.parent / "docker-config")}
    return subprocess.run(["docker", *args], env=env, capture_output=True, text=True,
                          check=check)


def ready(sock: Path, process: subprocess.Popen[bytes], what: str,
          timeout: float = 60) -> None:
    """Wait until the server answers ``docker version``; an error once it died or
    ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while docker(sock, "version", check=False).returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it is still there after ``timeout``."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
