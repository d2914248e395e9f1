"""``skiff run -i/-t``, ``start -ai`` and ``attach`` through a real terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.fixtures.cli import COMMAND, skiff

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]


def _in_terminal(args: list[str], keys: list[bytes], until: bytes,
                 size: tuple[int, int] = (24, 80)) -> tuple[int, bytes]:
    """Run the CLI with a pseudo-terminal of ``size`` (rows, columns) as its stdin/stdout;
    type ``keys``."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    process = subprocess.Popen([*COMMAND, *args], cwd=REPO,
                               stdin=slave, stdout=slave, stderr=slave, env=dict(os.environ),
                               start_new_session=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    pending = list(keys)
    try:
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            if pending and (b"# " in seen or b"$ " in seen):
                os.write(master, pending.pop(0))
        process.wait(10)
        while select.select([master], [], [], 0)[0]:  # what it wrote just before it ended
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: all of it read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert until in seen, seen
    return process.returncode, seen


def test_run_it_gives_a_shell(busybox_image: str) -> None:
    code, seen = _in_terminal(["run", "--rm", "-it", "busybox", "sh"],
                              [b"echo got-$((6*7)); tty\r", b"exit 5\r"], b"got-42")
    assert code == 5
    assert b"/dev/pts/0" in seen


def test_run_t_and_create_t_size_the_tty_before_the_process_starts(busybox_image: str) -> None:
    """As ``docker run -t``: the terminal's size goes with the create (ConsoleSize), so a
    first command that asks for it needs no resize to have come first."""
    for flags in (["-t"], ["-it"]):
        code, seen = _in_terminal(["run", *flags, "--rm", "busybox", "stty", "size"], [],
                                  b"33 111", size=(33, 111))
        assert code == 0, seen
    try:
        code, seen = _in_terminal(["create", "-t", "--name", "sized", "busybox", "stty", "size"],
                                  [], b"\n", size=(40, 120))
        assert code == 0, seen
        inspected = skiff("inspect", "-f", "{{json .HostConfig.ConsoleSize}}", "sized")
        assert inspected.stdout == "[40,120]\n", inspected.stderr
        started = skiff("start", "-a", "sized")  # no terminal of its own: the size kept
        assert (started.returncode, started.stdout.strip()) == (0, "40 120"), started.stderr
    finally:
        skiff("rm", "-f", "sized")


def test_compose_run_and_exec_size_the_tty_before_the_process_starts(busybox_image: str,
                                                                    tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  term:\n    image: busybox:latest\n    command: [sleep, '600']\n")
    compose = ["compose", "-f", str(tmp_path / "compose.yaml")]
    try:
        code, seen = _in_terminal([*compose, "run", "--rm", "term", "stty", "size"], [],
                                  b"33 111", size=(33, 111))
        assert code == 0, seen
        assert skiff(*compose, "up", "-d").returncode == 0
        code, seen = _in_terminal([*compose, "exec", "term", "stty", "size"], [], b"25 90",
                                  size=(25, 90))
        assert code == 0, seen
    finally:
        skiff(*compose, "down", "-t", "0")


def test_run_i_reads_our_stdin(busybox_image: str) -> None:
    result = skiff("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo end",
                   input="from the host\n")
    assert (result.returncode, result.stdout) == (0, "from the host\nend\n"), result.stderr


def test_start_ai_and_attach(busybox_image: str) -> None:
    created = skiff("create", "-i", "--name", "attach-me", "busybox", "sh", "-c",
                    "read line; echo got $line")
    assert created.returncode == 0, created.stderr
    try:
        started = skiff("start", "-ai", "attach-me", input="hello\n")
        assert (started.returncode, started.stdout) == (0, "got hello\n"), started.stderr
        running = skiff("run", "-d", "--name", "ticker-a", "busybox", "sh", "-c",
                        "echo one; sleep 4; echo two")  # attach in time on a loaded machine
        assert running.returncode == 0
        attached = skiff("attach", "--no-stdin", "ticker-a")
        assert attached.returncode == 0 and "two" in attached.stdout, attached.stderr
    finally:
        skiff("rm", "-f", "attach-me", "ticker-a")
