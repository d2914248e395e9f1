"""Socket activation: ``skiff serve`` serves the socket systemd passes it, and the
user units in packaging/ that set this up."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.activation import activation_sockets
from tests.fixtures.apiserver import _UnixConnection

REPO = Path(__file__).resolve().parents[3]

# What systemd does between fork and exec: the socket becomes fd 3, and
# LISTEN_PID names the process that is to use it.
_AS_SYSTEMD = """
import os, sys
os.dup2(int(sys.argv[1]), 3)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="skiff-serve.socket")
os.execv(sys.executable, [sys.executable, "-m", "app.cli", "serve"])
"""


def _ping(path: Path) -> tuple[int, bytes]:
    conn = _UnixConnection(path, 60)
    try:
        conn.request("GET", "/_ping")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_sockets_of_another_process_are_not_taken() -> None:
    env = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid() + 1), "LISTEN_FDNAMES": "x"}
    assert activation_sockets(env) == []
    assert env == {}  # read once: nothing started later believes it was activated
    assert activation_sockets({}) == []


@pytest.fixture
def activated(busybox_image: str, tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """``skiff serve`` started as systemd starts it, on a socket bound here."""
    path = tmp_path / "docker.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    process = subprocess.Popen(
        [sys.executable, "-c", _AS_SYSTEMD, str(listener.fileno())], cwd=REPO,
        pass_fds=(listener.fileno(),), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    listener.close()  # the server holds it now, as systemd would
    try:
        yield path, process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)


@pytest.mark.root
def test_serve_takes_the_socket_systemd_passes(activated: tuple[Path, subprocess.Popen[str]]
                                               ) -> None:
    path, process = activated
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first == f"Serving the Docker Engine API on unix://{path}\n"
    assert _ping(path) == (200, b"OK")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert path.exists()  # the socket file is systemd's to remove, not ours


@pytest.mark.root
@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None,
                    reason="systemd-socket-activate is not installed")
def test_serve_under_systemd_socket_activate(busybox_image: str, tmp_path: Path) -> None:
    path = tmp_path / "docker.sock"
    launcher = subprocess.Popen(
        ["systemd-socket-activate", "-l", str(path), sys.executable, "-m", "app.cli", "serve"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert launcher.stderr is not None
        assert "Listening on" in launcher.stderr.readline()  # bound: connecting starts us
        assert _ping(path) == (200, b"OK")
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_the_user_units_are_valid(tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    skiff = Path(sys.executable).parent / "skiff"
    text = (REPO / "packaging/skiff-serve.service.in").read_text()
    assert "ExecStart=@BINDIR@/skiff serve" in text
    (units / "skiff-serve.service").write_text(text.replace("@BINDIR@", str(skiff.parent)))
    shutil.copy(REPO / "packaging/skiff-serve.socket", units)
    socket_unit = (units / "skiff-serve.socket").read_text()
    assert "ListenStream=%t/skiff/docker.sock" in socket_unit
    assert "SocketMode=0600" in socket_unit
    done = subprocess.run(["systemd-analyze", "verify", "--user",
                           str(units / "skiff-serve.socket"), str(units / "skiff-serve.service")],
                          env=dict(os.environ, XDG_RUNTIME_DIR=str(runtime)),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
