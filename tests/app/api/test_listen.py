"""Where ``skiff serve`` agrees to listen: Unix sockets, loopback TCP only."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.api.server import Address, ListenError, parse_host
from app.api.versions import API_VERSION

REPO = Path(__file__).resolve().parents[3]


def test_unix_and_loopback_tcp_hosts_are_parsed() -> None:
    assert parse_host("unix:///run/x/docker.sock") == Address("unix", "/run/x/docker.sock")
    assert parse_host("tcp://127.0.0.1:2375") == Address("tcp", host="127.0.0.1", port=2375)
    assert parse_host("tcp://[::1]:2375") == Address("tcp", host="::1", port=2375)
    assert str(parse_host("tcp://localhost:2375")) == "tcp://localhost:2375"


@pytest.mark.parametrize("host", ["tcp://0.0.0.0:2375", "tcp://192.168.1.5:2375",
                                  "tcp://example.com:2375"])
def test_non_loopback_tcp_is_refused_without_tls(host: str) -> None:
    with pytest.raises(ListenError, match="without TLS"):
        parse_host(host)


@pytest.mark.parametrize("host", ["unix://relative.sock", "tcp://127.0.0.1", "ssh://x",
                                  "tcp://127.0.0.1:99999"])
def test_malformed_hosts_are_refused(host: str) -> None:
    with pytest.raises(ListenError, match="invalid --host"):
        parse_host(host)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.root
def test_serving_on_loopback_tcp_and_refusing_the_rest(skiff_root: Path) -> None:
    refused = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--host",
                              "tcp://0.0.0.0:2375"], cwd=REPO, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 1
    assert "refusing to serve on tcp://0.0.0.0:2375: without TLS" in refused.stderr
    host = f"tcp://127.0.0.1:{_free_port()}"
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", host],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"Serving the Docker Engine API on {host}"
        assert process.stdout.readline().strip() == f"export DOCKER_HOST={host}"
        if shutil.which("docker"):
            version = subprocess.run(["docker", "-H", host, "version", "--format",
                                      "{{.Server.APIVersion}}"], capture_output=True,
                                     text=True, timeout=60)
            assert version.stdout.strip() == API_VERSION, version.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
