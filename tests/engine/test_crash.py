"""Killing the CLI (and with it the engine and its helper) loses no container.

The container's monitor holds its output and records how it ended; the next
command reads the truth from the monitor's files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.cli import COMMAND, skiff

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]


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
        [*COMMAND, "run", "--name", name, "busybox", "sh", "-c",
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
        log = Path(skiff("inspect", "--format", "{{.LogPath}}", "ticker").stdout.strip())
        deadline = time.monotonic() + 30
        while b"tick 3\n" not in log.read_bytes():  # written with no skiff process running
            assert time.monotonic() < deadline, "the container never logged"
            time.sleep(0.05)
        assert skiff("wait", "ticker").stdout.strip() == "0"
        lines = skiff("logs", "ticker").stdout.splitlines()
        assert lines == [f"tick {i}" for i in range(20)]
    finally:
        skiff("rm", "-f", "ticker")


def _monitor_of(container_id: str) -> int:
    import json

    inspected = json.loads(skiff("inspect", container_id).stdout)[0]
    pid = inspected["State"]["Pid"]
    stat = Path(f"/proc/{pid}/stat").read_text()
    ppid = int(stat.rsplit(")", 1)[1].split()[1])
    return ppid


def test_a_killed_monitor_takes_its_container_along_and_is_reported(
        busybox_image: str) -> None:
    """kill -9 of a monitor: its container does not run on unwatched (a published port
    answering nobody), is reported exited 137 with the reason, and stop, start and
    rm -f work afterwards (issue 12, item 3)."""
    started = skiff("run", "-d", "--name", "orphan", busybox_image, "sleep", "1234")
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        import json

        pid = json.loads(skiff("inspect", cid).stdout)[0]["State"]["Pid"]
        monitor = _monitor_of(cid)
        cmdline = Path(f"/proc/{monitor}/cmdline").read_bytes().replace(b"\0", b" ").strip()
        assert cmdline == f"skiff-monitor {cid[:12]}".encode()
        assert Path(f"/proc/{monitor}/comm").read_text().strip() == "skiff-monitor"
        os.kill(monitor, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists(), "the container ran on without its monitor"
        state = json.loads(skiff("inspect", cid).stdout)[0]["State"]
        assert (state["Status"], state["ExitCode"], state["Running"]) == ("exited", 137, False)
        assert "monitor" in state["Error"]
        assert skiff("ps", "-a", "--filter", "name=orphan", "--format",
                     "{{.Status}}").stdout.startswith("Exited (137)")
        assert skiff("wait", cid).stdout.strip() == "137"
        assert skiff("stop", cid).returncode == 0
        again = skiff("start", cid)
        assert again.returncode == 0, again.stderr
        state = json.loads(skiff("inspect", cid).stdout)[0]["State"]
        assert state["Running"] and state["Pid"] != pid
        running = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                   and (p / "cmdline").exists()
                   and (p / "cmdline").read_bytes() == b"sleep\x001234\x00"]
        assert len(running) == 1, "a second copy runs beside an orphan"
    finally:
        removed = skiff("rm", "-f", cid)
        assert removed.returncode == 0, removed.stderr
