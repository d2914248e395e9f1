"""Killing the CLI (and with it the engine and its helper) loses no container.

The container's monitor holds its output and records how it ended; the next
command reads the truth from the monitor's files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parent.parent


def skiff(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def test_sigkill_of_skiff_run_and_its_helper_loses_nothing(busybox_image: str) -> None:
    name = "crash-survivor"
    cli = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--name", name, "busybox", "sh", "-c",
         "echo start; sleep 2; echo done; exit 4"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        assert cli.stdout is not None
        assert cli.stdout.readline() == b"start\n"
        helpers = _children(cli.pid)
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait()
        for pid in helpers:  # the engine's helper too, not only the CLI
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        listed = skiff("ps", "--format", "{{.Names}} {{.Status}}").stdout
        assert listed.startswith(f"{name} Up"), listed
        waited = skiff("wait", name)
        assert waited.stdout.strip() == "4", waited.stderr
        assert skiff("logs", name).stdout == "start\ndone\n"
        state = skiff("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name)
        assert state.stdout.strip() == "exited 4"
    finally:
        skiff("rm", "-f", name)
        for pid in _children(os.getpid()):
            if pid == cli.pid:
                cli.wait()


def test_a_container_keeps_logging_while_no_engine_runs(busybox_image: str) -> None:
    started = skiff("run", "-d", "--name", "ticker", "busybox", "sh", "-c",
                    "i=0; while [ $i -lt 20 ]; do echo tick $i; i=$((i+1)); sleep 0.05; done")
    assert started.returncode == 0, started.stderr
    try:
        time.sleep(0.2)  # no skiff process runs now: only the monitor
        assert skiff("wait", "ticker").stdout.strip() == "0"
        lines = skiff("logs", "ticker").stdout.splitlines()
        assert lines == [f"tick {i}" for i in range(20)]
    finally:
        skiff("rm", "-f", "ticker")
