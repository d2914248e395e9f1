"""The ``skiff`` command line end to end: exec, and the commands that look into a running
container (logs, diff, top, stats, events); see test_e2e.py."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.app.cli.e2ehelpers import Skiff, no_traceback, wait_for
from tests.fixtures.cli import COMMAND

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]


# -- exec --------------------------------------------------------------------------------

@pytest.fixture
def sleeper(skiff: Skiff) -> str:
    result = skiff("run", "-d", "busybox", "sleep", "300")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_exec_output_streams_and_exit_code(skiff: Skiff, sleeper: str) -> None:
    result = skiff("exec", "-e", "X=1", "-w", "/tmp", "-u", "1000", sleeper, "sh", "-c",
                   'echo "$X $(pwd) $(id -u)"; echo err >&2; exit 4')
    assert (result.returncode, result.stdout, result.stderr) == (4, "1 /tmp 1000\n", "err\n")


def test_exec_stdin(skiff: Skiff, sleeper: str) -> None:
    result = skiff("exec", "-i", sleeper, "sh", "-c", "tr a-z A-Z", input="hello\nboat\n")
    assert (result.returncode, result.stdout) == (0, "HELLO\nBOAT\n")
    closed = skiff("exec", sleeper, "cat", input="not read\n")  # without -i: no stdin
    assert (closed.returncode, closed.stdout) == (0, "")


def test_exec_errors(skiff: Skiff, sleeper: str) -> None:
    missing = skiff("exec", sleeper, "nosuchcmd")
    assert missing.returncode == 127
    no_traceback(missing)
    assert len(missing.stderr.splitlines()) == 1 and "nosuchcmd" in missing.stderr
    assert skiff("exec", sleeper).returncode == 1  # no command
    stopped = skiff("create", "busybox").stdout.strip()
    not_running = skiff("exec", stopped, "true")
    assert not_running.returncode == 1
    assert not_running.stderr.startswith("Error response from daemon: ")


def test_exec_detached(skiff: Skiff, sleeper: str) -> None:
    result = skiff("exec", "-d", sleeper, "sh", "-c", "echo done > /tmp/flag; echo ignored")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    wait_for(lambda: skiff("exec", sleeper, "cat", "/tmp/flag").stdout == "done\n")
    failed = skiff("exec", "-d", sleeper, "nosuchcmd")
    assert failed.returncode == 127 and "nosuchcmd" in failed.stderr


def _talk_to_shell(master: int, command: bytes, deadline: float) -> bytes:
    """Act as the terminal: answer the shell's cursor query, type once it prompts."""
    import select

    seen = b""
    typed = False
    while time.monotonic() < deadline:
        readable, _, _ = select.select([master], [], [], 0.5)
        if not readable:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every slave end is closed, the session is over
            break
        if not chunk:
            break
        seen += chunk
        if b"\x1b[6n" in chunk:  # busybox ash asks where the cursor is
            os.write(master, b"\x1b[1;1R")
        if not typed and b"# " in seen:
            os.write(master, command)
            typed = True
    return seen


def test_exec_tty_interactive_shell(skiff: Skiff, sleeper: str) -> None:
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([*COMMAND, "exec", "-it", sleeper, "sh"],
                            cwd=REPO, stdin=slave, stdout=slave, stderr=slave,
                            env=dict(os.environ), start_new_session=True)
    os.close(slave)
    try:
        seen = _talk_to_shell(master, b"echo $((6 * 7)); tty; exit 5\r",
                              time.monotonic() + 60)
        assert proc.wait(timeout=30) == 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = seen.decode(errors="replace")
    assert "\r\n42\r\n" in text
    assert "/dev/pts/" in text  # the shell runs on a terminal inside the container


# -- more container commands ----------------------------------------------------------------

def test_logs_tail_since_until(skiff: Skiff) -> None:
    cid = skiff("run", "-d", "busybox", "sh", "-c",
                "for i in 1 2 3 4 5; do echo line$i; done").stdout.strip()
    assert skiff("wait", cid).stdout == "0\n"
    assert skiff("logs", "--tail", "2", cid).stdout == "line4\nline5\n"
    assert skiff("logs", "-n", "0", cid).stdout == ""
    assert skiff("logs", "--tail", "all", cid).stdout.count("line") == 5
    stamps = [line.split(" ", 1)[0] for line in skiff("logs", "-t", cid).stdout.splitlines()]
    assert len(stamps) == 5
    since_third = skiff("logs", "--since", stamps[2], cid).stdout.splitlines()
    assert since_third[0] in ("line1", "line2", "line3")  # lines may share a timestamp
    assert since_third[-1] == "line5"
    assert skiff("logs", "--until", stamps[0], cid).stdout.startswith("line1\n")
    assert skiff("logs", "--since", "1h", cid).stdout.count("line") == 5
    assert skiff("logs", "--since", "2099-01-01T00:00:00Z", cid).stdout == ""
    assert skiff("logs", "-f", cid).stdout.count("line") == 5  # ends: the container exited
    bad = skiff("logs", "--since", "yesterday", cid)
    assert bad.returncode == 125 and "--since" in bad.stderr


def test_rename_diff_wait_restart(skiff: Skiff) -> None:
    cid = skiff("create", "--name", "cli-old", "busybox", "sh", "-c",
                "mkdir -p /cli-dir && echo x > /cli-dir/file && exit 2").stdout.strip()
    assert skiff("rename", "cli-old", "cli-new").returncode == 0
    assert skiff("ps", "-a", "--filter", f"id={cid[:8]}", "--format", "{{.Names}}").stdout == \
        "cli-new\n"
    assert skiff("start", "cli-new").stdout == "cli-new\n"
    assert skiff("wait", "cli-new").stdout == "2\n"
    diff = skiff("diff", "cli-new").stdout.splitlines()
    assert "A /cli-dir" in diff and "A /cli-dir/file" in diff
    assert skiff("restart", "-t", "1", "cli-new").stdout == "cli-new\n"
    assert skiff("wait", "cli-new").stdout == "2\n"
    assert skiff("ps", "-a", "--filter", "exited=2", "--filter", f"id={cid}", "-q").stdout == \
        cid[:12] + "\n"


def test_top_and_stats(skiff: Skiff) -> None:
    cid = skiff("run", "-d", "--name", "cli-busy", "busybox", "sh", "-c",
                "while :; do :; done").stdout.strip()
    top = skiff("top", "cli-busy").stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert len(top) == 2 and top[1].endswith("   sh -c while :; do :; done")
    assert skiff("top", "cli-busy", "-o", "pid,comm").stdout.split()[:3] == ["PID", "COMMAND",
                                                                           top[1].split()[1]]
    stats = skiff("stats", "--no-stream", "cli-busy")
    assert stats.returncode == 0, stats.stderr
    header, row = stats.stdout.splitlines()
    assert header.split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
    assert row.startswith(cid[:12] + "   cli-busy ")
    cpu = float(skiff("stats", "--no-stream", "--format", "{{.CPUPerc}}",
                      cid).stdout.strip().rstrip("%"))
    # --no-stream shows the second sample, so a CPU figure exists (the first has none);
    # how near 100 % it gets depends on the machine's load, which the engine's tests cover.
    assert cpu > 1
    assert skiff("stats", "--no-stream", "--format", "{{.Name}}").stdout == "cli-busy\n"
    skiff("rm", "-f", cid)


def test_run_detached_rm_and_ps_filters(skiff: Skiff) -> None:
    cid = skiff("run", "-d", "--rm", "-l", "cli=yes", "busybox", "true").stdout.strip()
    skiff("wait", cid)
    wait_for(lambda: cid[:12] not in skiff("ps", "-aq").stdout)
    kept = skiff("create", "-l", "cli=kept", "busybox").stdout.strip()
    assert skiff("ps", "-a", "-q", "--filter", "label=cli=kept").stdout == kept[:12] + "\n"
    assert skiff("ps", "-q", "--filter", "status=created").stdout == kept[:12] + "\n"
    assert skiff("ps", "-l", "-q").stdout == kept[:12] + "\n"
    assert skiff("ps", "-a", "--filter", "ancestor=busybox", "-q").stdout == kept[:12] + "\n"
    bad = skiff("ps", "--filter", "colour=red")
    assert bad.returncode == 125 and "colour" in bad.stderr


def test_events_follow_and_ctrl_c(skiff: Skiff) -> None:
    import queue
    import signal
    import threading

    proc = subprocess.Popen(
        [*COMMAND, "events", "--filter", "type=container",
         "--filter", "event=create", "--format", "{{.Action}} {{.Actor.Attributes.name}}"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ))
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        # The watcher reports what changes once it runs: create until it reports one.
        deadline = time.monotonic() + 60
        seen = ""
        attempt = 0
        while not seen.startswith("create cli-event-"):
            assert time.monotonic() < deadline, "no create event was reported"
            attempt += 1
            skiff("create", "--name", f"cli-event-{attempt}", "busybox")
            try:
                seen = lines.get(timeout=2)
            except queue.Empty:
                continue
        assert seen.rstrip("\n").split(" ")[1] in {f"cli-event-{i}"
                                                   for i in range(1, attempt + 1)}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert proc.stderr is not None and proc.stderr.read() == ""  # quietly
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
