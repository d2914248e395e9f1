"""Waiting for processes the helper did not start (container monitors)."""

from __future__ import annotations

import subprocess
import sys
import threading

from engine.helper.containers.procs import wait_gone
from engine.processes import is_alive


def _sleeper(seconds: float) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    threading.Thread(target=process.wait, daemon=True).start()  # its parent reaps it
    return process


def test_wait_gone_returns_once_the_process_has_ended() -> None:
    process = _sleeper(0.2)
    wait_gone(process.pid, 60)
    assert not is_alive(process.pid)


def test_wait_gone_gives_up_at_its_timeout() -> None:
    process = _sleeper(60)
    try:
        wait_gone(process.pid, 0.1)
        assert is_alive(process.pid)
    finally:
        process.kill()


def test_wait_gone_of_no_process_returns_at_once() -> None:
    wait_gone(0, 60)
    process = _sleeper(0)
    process.wait()
    wait_gone(process.pid, 60)
