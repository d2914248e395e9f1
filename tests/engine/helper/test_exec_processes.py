"""exec leaves nothing behind: no zombie, no process charged to the container, no
internal request in any command line (issue 12, item 2)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.engine.helper.zombies import zombies_of
from tests.fixtures import cli
from tests.fixtures.engine import stop_lingering

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]


# A helper that lingers between commands, as a desktop user's does: what it
# leaves behind (zombies) stays where the test can see it.
LINGER = {"SKIFF_HELPER_IDLE": "60"}


def skiff(*args: str) -> subprocess.CompletedProcess[str]:
    return cli.skiff(*args, env=dict(os.environ, **LINGER))


def _processes() -> dict[int, bytes]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
    return found


def test_many_execs_in_a_pids_limited_container(busybox_image: str, skiff_root: Path
                                                ) -> None:
    started = skiff("run", "-d", "--pids-limit", "5", "--name", "exec-limited",
                    busybox_image, "sleep", "600")
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        for n in range(8):
            done = skiff("exec", "exec-limited", "sh", "-c", f"echo run {n}")
            assert (done.returncode, done.stdout) == (0, f"run {n}\n"), done.stderr
            assert "Traceback" not in done.stderr
        top = skiff("top", "exec-limited")
        assert top.returncode == 0 and len(top.stdout.splitlines()) == 2, top.stdout  # + header
        assert "sleep 600" in top.stdout
        stats = skiff("stats", "--no-stream", "--format", "{{.PIDs}}", "exec-limited")
        assert stats.stdout.strip() == "1", stats.stdout
        assert zombies_of(cid) == []
        # What the helper hands its processes never shows in a command line.
        session = subprocess.Popen([*cli.COMMAND, "exec", "exec-limited",
                                    "sh", "-c", "echo ready; sleep 3"], cwd=REPO,
                                   stdout=subprocess.PIPE, text=True,
                                   env=dict(os.environ, **LINGER))
        assert session.stdout is not None and session.stdout.readline() == "ready\n"
        for cmdline in _processes().values():
            assert b'"args"' not in cmdline and cid.encode() not in cmdline, cmdline
        session.wait(30)
        inspected = json.loads(skiff("inspect", cid).stdout)[0]
        assert inspected["State"]["Running"]
    finally:
        skiff("rm", "-f", cid)
        stop_lingering(skiff_root)
