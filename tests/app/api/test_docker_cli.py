"""The real docker CLI (28.x) driving Skiff through ``skiff serve``."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root

Docker = Callable[..., subprocess.CompletedProcess[str]]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: {result.stderr}"
    return result.stdout


def test_run_rm_prints_output_and_leaves_nothing(docker_cli: Docker) -> None:
    result = docker_cli("run", "--rm", "--name", "api-rm", "busybox", "sh", "-c",
                        "echo out; echo err >&2; exit 3")
    assert result.returncode == 3, result.stderr
    assert result.stdout == "out\n"
    assert "err\n" in result.stderr
    assert "api-rm" not in _ok(docker_cli("ps", "-a", "--format", "{{.Names}}"))


def test_run_reads_stdin_to_its_end(docker_cli: Docker) -> None:
    result = docker_cli("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done",
                        input="from stdin\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "from stdin\ndone\n"


def test_a_missing_command_exits_127_as_docker_does(docker_cli: Docker) -> None:
    result = docker_cli("run", "--rm", "busybox", "no-such-command")
    assert result.returncode == 127, result.stderr


def test_detached_with_a_published_port_then_ps_inspect_stop_rm(docker_cli: Docker) -> None:
    cid = _ok(docker_cli("run", "-d", "--name", "api-web", "-p", "127.0.0.1::80",
                         "--label", "role=web", "busybox", "httpd", "-f", "-p", "80")).strip()
    assert len(cid) == 64
    rows = _ok(docker_cli("ps", "--filter", "label=role=web", "--format",
                          "{{.ID}} {{.Names}} {{.State}} {{.Ports}}")).split("\n")
    assert rows[0].startswith(f"{cid[:12]} api-web running 127.0.0.1:")
    inspected = json.loads(_ok(docker_cli("inspect", "api-web")))[0]
    assert inspected["Id"] == cid and inspected["State"]["Running"] is True
    bound = inspected["NetworkSettings"]["Ports"]["80/tcp"][0]
    assert bound["HostIp"] == "127.0.0.1" and int(bound["HostPort"]) > 0
    assert _ok(docker_cli("port", "api-web", "80")).strip() == f"127.0.0.1:{bound['HostPort']}"
    _ok(docker_cli("stop", "-t", "1", cid[:12]))
    state = _ok(docker_cli("inspect", "-f", "{{.State.Status}}", "api-web")).strip()
    assert state == "exited"
    _ok(docker_cli("rm", "api-web"))
    missing = docker_cli("inspect", "api-web")
    assert missing.returncode == 1
    assert "No such object: api-web" in missing.stderr or "No such container" in missing.stderr


def test_logs_follow_streams_until_the_container_ends(docker_cli: Docker) -> None:
    _ok(docker_cli("run", "-d", "--name", "api-logs", "busybox", "sh", "-c",
                   "echo one; echo two >&2; sleep 1; echo three"))
    result = docker_cli("logs", "-f", "api-logs")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\nthree\n"
    assert result.stderr == "two\n"
    tail = _ok(docker_cli("logs", "--tail", "1", "-t", "api-logs"))
    assert tail.endswith(" three\n") and tail[:4].isdigit()


def test_wait_returns_the_exit_code(docker_cli: Docker) -> None:
    _ok(docker_cli("run", "-d", "--name", "api-wait", "busybox", "sh", "-c", "exit 7"))
    assert _ok(docker_cli("wait", "api-wait")).strip() == "7"


def _in_a_pty(env: dict[str, str], *command: str, typed: bytes,
              until: bytes) -> tuple[bytes, int]:
    """Runs the docker CLI on a pseudo-terminal of 33 rows and 101 columns, types
    ``typed`` once it shows a prompt, and returns what it printed and its exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    process = subprocess.Popen(["docker", *command], stdin=slave, stdout=slave, stderr=slave,
                               env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        sent = False
        while until not in seen and time.monotonic() < deadline:
            if not sent and b"# " in seen:
                os.write(master, typed)
                sent = True
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        return seen, process.wait(timeout=30)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()


TYPED = b"stty size; tty; echo marker-$((6*7)); exit 4\r"


def test_exec_with_a_tty_through_a_pty(docker_cli: Docker, api_server: ApiServer) -> None:
    _ok(docker_cli("run", "-d", "--name", "api-exec", "busybox", "sleep", "60"))
    assert _ok(docker_cli("exec", "api-exec", "cat", "/etc/hostname")).strip()
    failed = docker_cli("exec", "api-exec", "sh", "-c", "exit 5")
    assert failed.returncode == 5
    seen, code = _in_a_pty(api_server.env(), "exec", "-it", "api-exec", "sh", typed=TYPED,
                           until=b"marker-42")
    assert b"marker-42" in seen and b"/dev/pts/" in seen, seen
    assert b"33 101" in seen, seen  # the client's window size reached the exec's terminal
    assert code == 4


def test_run_it_and_attach_through_a_pty(docker_cli: Docker, api_server: ApiServer) -> None:
    seen, code = _in_a_pty(api_server.env(), "run", "-it", "--rm", "busybox", "sh",
                           typed=TYPED, until=b"marker-42")
    assert b"marker-42" in seen and b"33 101" in seen, seen
    assert code == 4
    _ok(docker_cli("run", "-d", "-it", "--name", "api-attach", "busybox", "sh"))
    seen, code = _in_a_pty(api_server.env(), "attach", "api-attach", typed=TYPED,
                           until=b"marker-42")
    assert b"marker-42" in seen and b"33 101" in seen, seen
    assert code == 4
    assert _ok(docker_cli("inspect", "-f", "{{.State.ExitCode}}", "api-attach")).strip() == "4"
    _ok(docker_cli("run", "-d", "-it", "--name", "api-detach", "busybox", "sh"))
    seen, _ = _in_a_pty(api_server.env(), "attach", "api-detach", typed=b"\x10\x11",
                        until=b"read escape sequence")
    assert b"read escape sequence" in seen, seen  # detached, by the CLI's own words
    assert _ok(docker_cli("inspect", "-f", "{{.State.Running}}", "api-detach")).strip() == "true"


def test_the_lifecycle_verbs(docker_cli: Docker, api_server: ApiServer) -> None:
    _ok(docker_cli("run", "-d", "--name", "api-verbs", "busybox", "sh", "-c",
                   'trap "exit 0" TERM; while true; do echo x; sleep 0.2; done'))
    assert "sh -c" in _ok(docker_cli("top", "api-verbs"))
    _ok(docker_cli("exec", "api-verbs", "touch", "/made"))
    assert "A /made" in _ok(docker_cli("diff", "api-verbs")).splitlines()
    _ok(docker_cli("rename", "api-verbs", "api-verbs-2"))
    _ok(docker_cli("pause", "api-verbs-2"))
    assert _ok(docker_cli("ps", "-f", "name=api-verbs-2", "--format",
                          "{{.Status}}")).strip().endswith("(Paused)")
    _ok(docker_cli("unpause", "api-verbs-2"))
    _ok(docker_cli("update", "--memory", "100m", "--memory-swap", "100m", "api-verbs-2"))
    assert _ok(docker_cli("inspect", "-f", "{{.HostConfig.Memory}}",
                          "api-verbs-2")).strip() == str(100 << 20)
    _ok(docker_cli("restart", "-t", "2", "api-verbs-2"))
    _ok(docker_cli("kill", "api-verbs-2"))
    assert _ok(docker_cli("wait", "api-verbs-2")).strip() == "137"
    attached = subprocess.Popen(["docker", "start", "-a", "api-verbs-2"],
                                stdout=subprocess.PIPE, env=api_server.env())
    try:
        assert attached.stdout is not None
        assert attached.stdout.readline() == b"x\n"  # its output, from the start
        _ok(docker_cli("stop", "api-verbs-2"))
        assert attached.wait(timeout=30) == 0  # the trap's exit code
    finally:
        if attached.poll() is None:
            attached.kill()
            attached.wait()


def test_cp_both_ways(docker_cli: Docker, tmp_path: Path) -> None:
    _ok(docker_cli("run", "-d", "--name", "api-cp", "busybox", "sleep", "60"))
    source = tmp_path / "hello.txt"
    source.write_text("hello from the host\n")
    _ok(docker_cli("cp", str(source), "api-cp:/tmp/"))
    assert _ok(docker_cli("exec", "api-cp", "cat", "/tmp/hello.txt")) == "hello from the host\n"
    _ok(docker_cli("exec", "api-cp", "sh", "-c", "mkdir /tmp/d && echo inner > /tmp/d/f"))
    _ok(docker_cli("cp", "api-cp:/tmp/d", str(tmp_path / "out")))
    assert (tmp_path / "out" / "f").read_text() == "inner\n"
    missing = docker_cli("cp", "api-cp:/no/such/file", str(tmp_path))
    assert missing.returncode == 1
    assert "Could not find the file /no/such/file" in missing.stderr


def test_stats_no_stream(docker_cli: Docker) -> None:
    _ok(docker_cli("run", "-d", "--name", "api-stats", "-m", "64m", "busybox", "sleep", "60"))
    out = _ok(docker_cli("stats", "--no-stream", "--format",
                         "{{.Name}} {{.MemUsage}} {{.PIDs}}", "api-stats"))
    name, usage, _, limit, pids = out.split()
    assert usage.endswith("B")
    assert name == "api-stats"
    assert limit == "64MiB"
    assert int(pids) >= 1


def test_events_since_shows_what_happened(docker_cli: Docker) -> None:
    since = str(int(time.time()) - 1)
    _ok(docker_cli("run", "--rm", "--name", "api-events", "busybox", "true"))
    until = str(int(time.time()) + 1)
    out = _ok(docker_cli("events", "--since", since, "--until", until, "--filter",
                         "container=api-events", "--format", "{{.Action}}"))
    actions = out.split()
    for action in ("create", "start", "die", "destroy"):
        assert action in actions, out


def test_exec_events_name_the_command_and_exit_code(docker_cli: Docker) -> None:
    _ok(docker_cli("run", "-d", "--name", "api-exec-events", "busybox", "sleep", "30"))
    try:
        since = str(int(time.time()) - 1)
        assert docker_cli("exec", "api-exec-events", "sh", "-c", "exit 5").returncode == 5
        until = str(int(time.time()) + 1)
        out = _ok(docker_cli("events", "--since", since, "--until", until, "--filter",
                             "container=api-exec-events", "--filter", "event=exec_create",
                             "--filter", "event=exec_start", "--filter",
                             "event=exec_die", "--format",
                             "{{.Action}}|{{index .Actor.Attributes \"exitCode\"}}"))
        assert out.splitlines() == ["exec_create: sh -c exit 5|", "exec_start: sh -c exit 5|",
                                    "exec_die|5"]
    finally:
        docker_cli("rm", "-f", "api-exec-events")


def test_errors_read_as_docker_s(docker_cli: Docker) -> None:
    result = docker_cli("rm", "api-no-such")
    assert result.returncode == 1
    assert result.stderr == "Error response from daemon: No such container: api-no-such\n"
    _ok(docker_cli("create", "--name", "api-taken", "busybox", "true"))
    taken = docker_cli("create", "--name", "api-taken", "busybox", "true")
    assert taken.returncode != 0
    assert 'Conflict. The container name "/api-taken" is already in use' in taken.stderr
