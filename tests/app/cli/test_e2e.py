"""The ``skiff`` command line end to end: a subprocess against the real engine.

Each test runs ``python -m app.cli`` with the session's private SKIFF_ROOT and
cgroup parent (set by the ``skiff_root`` fixture), on the busybox test image,
and removes every container it made.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.cli import COMMAND
from tests.fixtures.cli import skiff as _run

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]
Skiff = Callable[..., subprocess.CompletedProcess[str]]


def _engine_ready() -> str:
    """"" when the engine imports; else why the tests are skipped."""
    try:
        from engine import Engine

        Engine.__init__  # noqa: B018 - importable is the check
    except Exception as exc:  # an engine that does not even import
        return f"the engine does not import: {exc}"
    return ""


@pytest.fixture
def skiff(busybox_image: str, skiff_root: Path) -> Iterator[Skiff]:
    """Runs the CLI; removes the containers created meanwhile."""
    reason = _engine_ready()
    if reason:
        pytest.skip(reason)
    assert os.environ["SKIFF_ROOT"] == str(skiff_root)
    before = set(_run("ps", "-aq", "--no-trunc").stdout.split())
    yield _run
    leftover = set(_run("ps", "-aq", "--no-trunc").stdout.split()) - before
    if leftover:
        _run("rm", "-f", *sorted(leftover))
    assert not set(_run("ps", "-aq", "--no-trunc").stdout.split()) - before


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr


# -- run ------------------------------------------------------------------------------

def test_run_rm_echo(skiff: Skiff) -> None:
    result = skiff("run", "--rm", "busybox", "echo", "hi")
    assert (result.returncode, result.stdout, result.stderr) == (0, "hi\n", "")
    assert skiff("ps", "-aq").stdout == ""


def test_run_exit_code(skiff: Skiff) -> None:
    result = skiff("run", "busybox", "sh", "-c", "exit 3")
    assert result.returncode == 3, result.stderr


def test_run_streams_stdout_and_stderr_apart(skiff: Skiff) -> None:
    result = skiff("run", "--rm", "busybox", "sh", "-c",
                   "echo out; echo err >&2; echo out2")
    assert result.returncode == 0
    assert result.stdout == "out\nout2\n"
    assert result.stderr == "err\n"


def test_run_flags_reach_the_container(skiff: Skiff, tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# a comment\nFROM_FILE=file value\n\n")
    result = skiff("run", "--rm", "-e", "A=1", "--env-file", str(env_file), "-w", "/tmp",
                   "-u", "1000", "-h", "boat", "busybox", "sh", "-c",
                   'echo "$A|$FROM_FILE|$(pwd)|$(id -u)|$(hostname)"')
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1|file value|/tmp|1000|boat\n"


def test_run_entrypoint_override(skiff: Skiff) -> None:
    result = skiff("run", "--rm", "--entrypoint", "echo", "busybox", "a", "b")
    assert (result.returncode, result.stdout) == (0, "a b\n")


def test_run_missing_command_is_127(skiff: Skiff) -> None:
    result = skiff("run", "--rm", "busybox", "nosuchcmd")
    assert result.returncode == 127
    _no_traceback(result)
    assert len(result.stderr.splitlines()) == 1
    assert "nosuchcmd" in result.stderr
    assert skiff("ps", "-aq").stdout == ""  # --rm removed it even though it never ran


def test_run_unknown_image_is_125_with_one_line(skiff: Skiff) -> None:
    result = skiff("run", "--pull", "never", "nosuchimage")
    assert result.returncode == 125
    _no_traceback(result)
    assert result.stderr.count("\n") == 1
    assert "nosuchimage" in result.stderr
    assert result.stdout == ""


def test_run_pulls_a_missing_image_first(skiff: Skiff) -> None:
    # Nothing listens on port 1 of loopback: the pull is tried and fails cleanly.
    result = skiff("run", "127.0.0.1:1/nosuch/image")
    assert result.returncode == 125
    _no_traceback(result)
    lines = result.stderr.splitlines()
    assert lines[0] == "Unable to find image '127.0.0.1:1/nosuch/image:latest' locally"
    assert lines[-1].startswith("skiff: Error response from daemon: ")


def test_bad_flag_is_125_before_anything_happens(skiff: Skiff) -> None:
    result = skiff("run", "--memory", "lots", "busybox", "true")
    assert result.returncode == 125
    assert result.stderr.splitlines() == [
        "skiff: invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots' "
        "(use a number with an optional unit b, k, m or g)",
        "See 'skiff run --help'."]
    assert skiff("ps", "-aq").stdout == ""


def test_security_opt_seccomp(skiff: Skiff, tmp_path: Path) -> None:
    status = ("busybox", "grep", "^Seccomp:", "/proc/self/status")
    assert skiff("run", "--rm", *status).stdout == "Seccomp:\t2\n"
    result = skiff("run", "--rm", "--security-opt", "seccomp=unconfined", *status)
    assert (result.returncode, result.stdout) == (0, "Seccomp:\t0\n"), result.stderr
    missing = skiff("create", "--security-opt", f"seccomp={tmp_path}/none.json", "busybox")
    assert missing.returncode == 125
    assert missing.stderr.splitlines()[0] == (
        f"skiff: opening seccomp profile ({tmp_path}/none.json) failed: No such file or "
        "directory")
    bad = tmp_path / "bad.json"
    bad.write_text('{"defaultAction": "SCMP_ACT_NOPE"}')
    result = skiff("create", "--security-opt", f"seccomp={bad}", "busybox", "true")
    assert result.returncode == 125
    assert result.stderr.count("\n") == 1
    assert "invalid seccomp profile: defaultAction: unknown action 'SCMP_ACT_NOPE'" in \
        result.stderr
    good = tmp_path / "good.json"
    good.write_text('{\n  "defaultAction": "SCMP_ACT_ALLOW"\n}\n')
    assert skiff("create", "--name", "cli-seccomp", "--security-opt", f"seccomp={good}",
                 "busybox", "true").returncode == 0
    shown = skiff("inspect", "-f", "{{json .HostConfig.SecurityOpt}}", "cli-seccomp").stdout
    assert json.loads(shown) == ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']
    assert skiff("ps", "-aq").stdout.count("\n") == 1  # the bad ones were never created


# -- a detached container's life -------------------------------------------------------

def _wait_for(predicate: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)


def test_detached_lifecycle(skiff: Skiff) -> None:
    result = skiff("run", "-d", "--name", "cli-life", "busybox", "sh", "-c",
                   "echo started; echo oops >&2; exec sleep 300")
    assert result.returncode == 0, result.stderr
    cid = result.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)

    ps = skiff("ps")
    header, *rows = ps.stdout.splitlines()
    assert header.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                              "PORTS", "NAMES"]
    row = next(r for r in rows if r.endswith("cli-life"))
    assert row.startswith(cid[:12] + "   busybox ")
    assert "Up " in row
    assert '"sh -c echo started;…"' in row  # docker joins Path and Args unquoted
    assert skiff("ps", "-q").stdout.split() == [cid[:12]]
    assert skiff("ps", "-q", "--no-trunc").stdout.split() == [cid]
    assert skiff("ps", "--format", "{{.Names}} {{.State}}").stdout == "cli-life running\n"

    _wait_for(lambda: "oops" in skiff("logs", "cli-life").stderr)
    logs = skiff("logs", "cli-life")
    assert (logs.stdout, logs.stderr) == ("started\n", "oops\n")
    stamped = skiff("logs", "-t", "--tail", "1", "cli-life")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (started|oops)\n",
                        stamped.stdout + stamped.stderr)

    stop = skiff("stop", "-t", "1", "cli-life")
    assert (stop.returncode, stop.stdout) == (0, "cli-life\n")
    assert skiff("ps", "-q").stdout == ""
    status = skiff("ps", "-a", "--filter", "name=cli-life", "--format", "{{.Status}}").stdout
    assert re.fullmatch(r"Exited \(137\) .* ago\n", status), status
    assert skiff("wait", "cli-life").stdout == "137\n"

    again = skiff("stop", "cli-life")  # docker: stopping a stopped container is no error
    assert (again.returncode, again.stdout, again.stderr) == (0, "cli-life\n", "")

    rm = skiff("rm", "cli-life")
    assert (rm.returncode, rm.stdout) == (0, "cli-life\n")
    assert skiff("ps", "-aq").stdout == ""


def test_pause_unpause_kill(skiff: Skiff) -> None:
    cid = skiff("run", "-d", "busybox", "sleep", "300").stdout.strip()
    assert skiff("pause", cid[:12]).stdout == cid[:12] + "\n"
    assert skiff("ps", "--format", "{{.Status}}").stdout.rstrip().endswith("(Paused)")
    again = skiff("pause", cid)
    assert again.returncode == 1 and "paused" in again.stderr
    assert skiff("unpause", cid).returncode == 0
    assert skiff("ps", "--format", "{{.State}}").stdout == "running\n"
    kill = skiff("kill", "-s", "TERM", cid)  # sleep as PID 1 ignores SIGTERM...
    assert kill.returncode == 0
    assert skiff("kill", cid).stdout == cid + "\n"  # ...SIGKILL does not
    _wait_for(lambda: skiff("ps", "-q").stdout == "")


def test_several_arguments_one_failing(skiff: Skiff) -> None:
    cid = skiff("create", "--name", "cli-several", "busybox", "true").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    result = skiff("rm", "cli-several", "cli-no-such-container")
    assert result.returncode == 1
    assert result.stdout == "cli-several\n"
    assert result.stderr == ("Error response from daemon: No such container: "
                             "cli-no-such-container\n")


def test_rm_f_of_several_running_reports_each_in_order(skiff: Skiff) -> None:
    """Removed all at once, as docker does, and still told in the order given."""
    names = [f"cli-many-{n}" for n in range(4)]
    for name in names:
        assert skiff("run", "-d", "--name", name, "busybox", "sleep", "300").returncode == 0
    result = skiff("rm", "-f", names[0], "cli-no-such-container", *names[1:])
    assert result.returncode == 1
    assert result.stdout == "".join(f"{name}\n" for name in names)
    assert result.stderr == ("Error response from daemon: No such container: "
                             "cli-no-such-container\n")
    assert skiff("ps", "-aq").stdout == ""


def test_name_in_use(skiff: Skiff) -> None:
    assert skiff("create", "--name", "cli-taken", "busybox").returncode == 0
    result = skiff("create", "--name", "cli-taken", "busybox")
    assert result.returncode == 125
    _no_traceback(result)
    assert len(result.stderr.splitlines()) == 1
    assert "cli-taken" in result.stderr
    assert result.stderr.startswith("skiff: Error response from daemon: ")


def test_start_attach_and_restart_policy_flags(skiff: Skiff) -> None:
    cid = skiff("create", "--restart", "on-failure:2", "-m", "64m", "--cpus", "0.5",
                "--pids-limit", "50", "-l", "team=boats", "busybox", "echo", "hello").stdout
    cid = cid.strip()
    result = skiff("start", "-a", cid)
    assert (result.returncode, result.stdout) == (0, "hello\n")
    host = json.loads(skiff("inspect", cid).stdout)[0]["HostConfig"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 50


# -- inspect -----------------------------------------------------------------------------

def test_inspect_container_shape(skiff: Skiff) -> None:
    cid = skiff("create", "--name", "cli-inspect", "busybox", "echo", "x").stdout.strip()
    result = skiff("inspect", "cli-inspect")
    assert result.returncode == 0
    assert result.stdout.startswith("[\n    {\n        \"Id\": ")  # docker's 4-space indent
    data = json.loads(result.stdout)
    assert isinstance(data, list) and len(data) == 1
    obj = data[0]
    assert obj["Id"] == cid
    assert obj["Name"] == "/cli-inspect"
    for key in ("Created", "State", "Config", "HostConfig", "Mounts", "NetworkSettings"):
        assert key in obj
    for key in ("Status", "Running", "Paused", "Pid", "ExitCode", "OOMKilled", "StartedAt",
                "FinishedAt", "Error"):
        assert key in obj["State"]
    assert obj["State"]["Status"] == "created"
    assert skiff("inspect", "-f", "{{.State.Status}} {{.Name}}", cid).stdout == \
        "created /cli-inspect\n"
    assert skiff("container", "inspect", "--format", "{{json .Config.Cmd}}",
                 "cli-inspect").stdout == '["echo","x"]\n'


def test_inspect_falls_back_to_images_and_reports_missing(skiff: Skiff) -> None:
    image = json.loads(skiff("inspect", "busybox").stdout)
    assert image[0]["Id"].startswith("sha256:")
    assert "docker.io/library/busybox:latest" in image[0]["RepoTags"] or \
        "busybox:latest" in image[0]["RepoTags"]
    missing = skiff("inspect", "cli-nothing-here")
    assert (missing.returncode, missing.stdout) == (1, "[]\n")
    assert missing.stderr == "Error: No such object: cli-nothing-here\n"
    assert skiff("inspect", "--type", "container", "busybox").stderr == \
        "Error: No such container: busybox\n"
    assert skiff("image", "inspect", "cli-nothing-here").stderr == \
        "Error: No such image: cli-nothing-here\n"


# -- images ------------------------------------------------------------------------------

def test_images_table_and_tag(skiff: Skiff) -> None:
    result = skiff("images")
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    row = next(r for r in rows if r.startswith("busybox "))
    assert re.search(r"\blatest\s+[0-9a-f]{12}\s+.+ ago\s+[\d.]+[kMG]?B$", row), row
    ids = skiff("images", "-q").stdout.split()
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)
    assert skiff("tag", "busybox", "cli-boat:v1").returncode == 0
    try:
        listed = skiff("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        assert "cli-boat:v1" in listed
    finally:
        removed = skiff("rmi", "cli-boat:v1")
    assert removed.stdout == "Untagged: cli-boat:v1\n"
    assert "cli-boat:v1" not in skiff("images", "--format", "{{.Repository}}:{{.Tag}}").stdout


def test_unknown_command_and_missing_arguments(skiff: Skiff) -> None:
    unknown = skiff("frobnicate")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("skiff: 'frobnicate' is not a skiff command.")
    missing = skiff("stop")
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[0] == '"skiff stop" requires at least 1 argument.'
    flag = skiff("ps", "--bogus")
    assert flag.returncode == 125
    assert flag.stderr.splitlines()[0] == "skiff: unknown flag: --bogus"


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
    _no_traceback(missing)
    assert len(missing.stderr.splitlines()) == 1 and "nosuchcmd" in missing.stderr
    assert skiff("exec", sleeper).returncode == 1  # no command
    stopped = skiff("create", "busybox").stdout.strip()
    not_running = skiff("exec", stopped, "true")
    assert not_running.returncode == 1
    assert not_running.stderr.startswith("Error response from daemon: ")


def test_exec_detached(skiff: Skiff, sleeper: str) -> None:
    result = skiff("exec", "-d", sleeper, "sh", "-c", "echo done > /tmp/flag; echo ignored")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    _wait_for(lambda: skiff("exec", sleeper, "cat", "/tmp/flag").stdout == "done\n")
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
    _wait_for(lambda: cid[:12] not in skiff("ps", "-aq").stdout)
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


# -- images -------------------------------------------------------------------------------

def test_save_and_load_round_trip(skiff: Skiff, tmp_path: Path) -> None:
    archive = tmp_path / "busybox.tar"
    assert skiff("tag", "busybox", "cli-saved:1").returncode == 0
    try:
        saved = skiff("save", "-o", str(archive), "cli-saved:1")
        assert saved.returncode == 0, saved.stderr
        assert archive.stat().st_size > 0
        assert skiff("rmi", "cli-saved:1").stdout == "Untagged: cli-saved:1\n"
        # (Engine.load reports every tag the loaded image has in the store, so the
        # busybox:latest tag of the same image is listed too.)
        loaded = skiff("load", "-i", str(archive))
        assert loaded.returncode == 0
        assert "Loaded image: cli-saved:1" in loaded.stdout.splitlines()
        with archive.open("rb") as stdin:
            piped = subprocess.run([*COMMAND, "load"], cwd=REPO,
                                   stdin=stdin, capture_output=True, env=dict(os.environ),
                                   timeout=60)
        assert piped.returncode == 0
        assert b"Loaded image: cli-saved:1" in piped.stdout.splitlines()
        streamed = subprocess.run([*COMMAND, "save", "cli-saved:1"],
                                  cwd=REPO, capture_output=True, env=dict(os.environ),
                                  timeout=60)
        assert streamed.returncode == 0
        assert streamed.stdout[257:262] == b"ustar"  # a tar archive on stdout
    finally:
        skiff("rmi", "cli-saved:1")
    missing = skiff("load", "-i", str(tmp_path / "nothing.tar"))
    assert missing.returncode == 1 and "nothing.tar" in missing.stderr
    _no_traceback(missing)


def test_rmi_refused_while_used(skiff: Skiff) -> None:
    skiff("tag", "busybox", "cli-used:1")
    skiff("create", "cli-used:1")
    try:
        refused = skiff("rmi", "cli-used:1", "busybox:nosuchtag")
        assert refused.returncode == 1
        # The image keeps another tag (busybox:latest): untagging is not refused.
        assert refused.stdout == "Untagged: cli-used:1\n"
        assert "busybox:nosuchtag" in refused.stderr
    finally:
        skiff("rmi", "-f", "cli-used:1")


# -- volumes ------------------------------------------------------------------------------

def test_tmpfs_mounts_as_docker_makes_them(skiff: Skiff) -> None:
    shown = skiff("run", "--rm", "--tmpfs", "/t", "--tmpfs", "/x:size=1m,mode=700,exec",
                  "--mount", "type=tmpfs,dst=/m,tmpfs-size=16k", "busybox", "sh", "-c",
                  "grep -E ' /(t|x|m) ' /proc/mounts; stat -c %a /x")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    options = {line.split()[1]: set(line.split()[3].split(",")) for line in lines[:-1]}
    assert {"nosuid", "nodev", "noexec"} <= options["/t"]
    assert {"nosuid", "nodev", "size=1024k", "mode=700"} <= options["/x"]
    assert "noexec" not in options["/x"]
    assert "size=16k" in options["/m"] and lines[-1] == "700"
    bad = skiff("run", "--rm", "--tmpfs", "/t:suid", "busybox", "true")
    assert bad.returncode == 125 and "invalid tmpfs option 'suid'" in bad.stderr


def test_volumes(skiff: Skiff) -> None:
    assert skiff("volume", "create", "-l", "team=boats", "cli-vol").stdout == "cli-vol\n"
    try:
        listed = skiff("volume", "ls").stdout.splitlines()
        assert listed[0].split() == ["DRIVER", "VOLUME", "NAME"]
        assert any(row.split() == ["local", "cli-vol"] for row in listed[1:])
        data = json.loads(skiff("volume", "inspect", "cli-vol").stdout)
        assert data[0]["Name"] == "cli-vol" and data[0]["Labels"] == {"team": "boats"}
        write = skiff("run", "--rm", "-v", "cli-vol:/data", "busybox", "sh", "-c",
                      "echo kept > /data/file")
        assert write.returncode == 0, write.stderr
        read = skiff("run", "--rm", "--mount", "type=volume,src=cli-vol,dst=/d,readonly",
                     "busybox", "sh", "-c", "cat /d/file; touch /d/other")
        assert read.stdout == "kept\n"
        assert read.returncode != 0 and "Read-only" in read.stderr
        assert "cli-vol" in skiff("volume", "ls", "-q", "--filter", "dangling=true").stdout
    finally:
        removed = skiff("volume", "rm", "cli-vol")
    assert removed.stdout == "cli-vol\n"
    missing = skiff("volume", "inspect", "cli-vol")
    assert (missing.returncode, missing.stdout) == (1, "[]\n")
    assert missing.stderr.startswith("Error response from daemon: ")


# -- ports and networks ----------------------------------------------------------------------

def _fetch(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
        return str(response.read().decode())


def test_published_port(skiff: Skiff) -> None:
    cid = skiff("run", "-d", "-p", "127.0.0.1::80", "busybox", "sh", "-c",
                "mkdir -p /www && echo served > /www/index.html && "
                "exec httpd -f -p 80 -h /www").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    mapping = skiff("port", cid).stdout
    match = re.fullmatch(r"80/tcp -> 127\.0\.0\.1:(\d+)\n", mapping)
    assert match, mapping
    host_port = match.group(1)
    assert skiff("port", cid, "80").stdout == f"127.0.0.1:{host_port}\n"
    assert skiff("port", cid, "80/tcp").stdout == f"127.0.0.1:{host_port}\n"
    missing = skiff("port", cid, "81")
    assert missing.returncode == 1
    assert missing.stderr == f"Error: No public port '81/tcp' published for {cid}\n"
    ports = skiff("ps", "--filter", f"id={cid}", "--format", "{{.Ports}}").stdout
    assert ports == f"127.0.0.1:{host_port}->80/tcp\n"
    _wait_for(lambda: _try_fetch(f"http://127.0.0.1:{host_port}/") == "served\n")
    settings = json.loads(skiff("inspect", cid).stdout)[0]["NetworkSettings"]["Ports"]
    assert settings["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": host_port}]


def test_expose_and_publish_all(skiff: Skiff) -> None:
    cid = skiff("create", "--expose", "7000-7001", "--expose", "53/udp", "-P", "busybox",
                "true").stdout.strip()
    try:
        config = json.loads(skiff("inspect", cid).stdout)[0]
        exposed = config["Config"]["ExposedPorts"]  # with the test image's own 80/tcp
        assert {"53/udp", "7000/tcp", "7001/tcp"} <= set(exposed)
        assert config["HostConfig"]["PublishAllPorts"] is True
    finally:
        skiff("rm", cid)
    bad = skiff("run", "--rm", "--expose", "http", "busybox", "true")
    assert bad.returncode == 125 and "invalid containerPort: 'http'" in bad.stderr


def _try_fetch(url: str) -> str:
    try:
        return _fetch(url)
    except OSError:
        return ""


def test_user_network(skiff: Skiff) -> None:
    created = skiff("network", "create", "cli-net")
    assert created.returncode == 0, created.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", created.stdout)
    try:
        listed = skiff("network", "ls").stdout.splitlines()
        assert listed[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
        assert any(row.split()[1:] == ["cli-net", "bridge", "local"] for row in listed[1:])
        assert skiff("network", "ls", "-q", "--filter", "name=cli-net").stdout == \
            created.stdout[:12] + "\n"
        server = skiff("run", "-d", "--name", "cli-server", "--network", "cli-net",
                       "--network-alias", "web", "busybox", "sh", "-c",
                       "mkdir -p /www && echo hello > /www/index.html && "
                       "exec httpd -f -p 80 -h /www")
        assert server.returncode == 0, server.stderr
        for host in ("cli-server", "web"):
            fetched = skiff("run", "--rm", "--network", "cli-net", "busybox", "sh", "-c",
                            f"for i in $(seq 50); do wget -q -O - http://{host}/ && exit 0; "
                            "sleep 0.2; done; exit 1")
            assert (fetched.returncode, fetched.stdout) == (0, "hello\n"), fetched.stderr
        inspected = json.loads(skiff("network", "inspect", "cli-net").stdout)[0]
        assert inspected["Name"] == "cli-net"
        assert [c["Name"] for c in inspected["Containers"].values()] == ["cli-server"]
        busy = skiff("network", "rm", "cli-net")
        assert busy.returncode == 1 and "cli-net" in busy.stderr
        skiff("rm", "-f", "cli-server")
    finally:
        skiff("rm", "-f", "cli-server")
        removed = skiff("network", "rm", "cli-net")
    assert removed.stdout == "cli-net\n", removed.stderr
    gone = skiff("network", "inspect", "cli-net")
    assert (gone.returncode, gone.stdout) == (1, "[]\n")


def test_an_address_and_an_internal_network(skiff: Skiff) -> None:
    made = skiff("network", "create", "--internal", "--subnet", "10.231.61.0/24",
                 "--ip-range", "10.231.61.128/25", "cli-inner")
    assert made.returncode == 0, made.stderr
    try:
        shown = skiff("run", "--rm", "--network", "cli-inner", "--ip", "10.231.61.20",
                      "busybox", "sh", "-c", "ip -4 -o addr show eth0; ip route")
        assert shown.returncode == 0, shown.stderr
        assert "inet 10.231.61.20/24" in shown.stdout and "default" not in shown.stdout
        inspected = json.loads(skiff("network", "inspect", "cli-inner").stdout)[0]
        assert inspected["Internal"] is True
        assert inspected["IPAM"]["Config"][0]["IPRange"] == "10.231.61.128/25"
        refused = skiff("run", "--rm", "--ip", "10.88.0.7", "busybox", "true")
        assert refused.returncode == 125
        assert "supported on user defined networks only" in refused.stderr
    finally:
        skiff("network", "rm", "cli-inner")


def test_network_errors_are_dockers(skiff: Skiff) -> None:
    created = skiff("network", "create", "cli-errors")
    assert created.returncode == 0, created.stderr
    try:
        again = skiff("network", "create", "cli-errors")
        assert (again.returncode, again.stderr) == (
            1, "Error response from daemon: network with name cli-errors already exists\n")
        subnet = json.loads(skiff("network", "inspect", "cli-errors").stdout)[0]["IPAM"][
            "Config"][0]["Subnet"]
        overlap = skiff("network", "create", "--subnet", subnet, "cli-overlap")
        assert (overlap.returncode, overlap.stderr) == (
            1, "Error response from daemon: invalid pool request: Pool overlaps with other one "
               "on this address space\n")
    finally:
        skiff("network", "rm", "cli-errors")
    missing = skiff("network", "rm", "cli-errors")
    assert (missing.returncode, missing.stderr) == (
        1, "Error response from daemon: network cli-errors not found\n")
    predefined = skiff("network", "rm", "bridge")
    assert (predefined.returncode, predefined.stderr) == (
        1, "Error response from daemon: bridge is a pre-defined network and cannot be removed\n")


def test_network_none_has_only_loopback(skiff: Skiff) -> None:
    result = skiff("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net")
    assert (result.returncode, result.stdout.split()) == (0, ["lo"])


# -- signals and system ---------------------------------------------------------------------

def test_stop_with_a_signal(skiff: Skiff) -> None:
    # PID 1 of a namespace only gets signals it handles: the shell traps USR1.
    cid = skiff("run", "-d", "busybox", "sh", "-c",
                'trap "exit 42" USR1; echo ready; while :; do sleep 0.1; done').stdout.strip()
    _wait_for(lambda: skiff("logs", cid).stdout == "ready\n")
    assert skiff("stop", "-s", "USR1", "-t", "60", cid).stdout == cid + "\n"
    assert skiff("wait", cid).stdout == "42\n"  # the trap ran: USR1 was sent, not SIGKILL
    bad = skiff("stop", "-s", "NOSUCHSIGNAL", cid)
    assert bad.returncode == 125 and "invalid signal" in bad.stderr


def test_ctrl_c_reaches_an_attached_container(skiff: Skiff) -> None:
    import signal

    proc = subprocess.Popen(
        [*COMMAND, "run", "--rm", "busybox", "sh", "-c",
         'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.1; done'],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)  # docker's --sig-proxy: forwarded, not fatal
        assert proc.wait(timeout=60) == 9
        assert proc.stdout.read() == "got-int\n"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert skiff("ps", "-aq").stdout == ""  # --rm still happened


def test_info_and_version(skiff: Skiff) -> None:
    cid = skiff("create", "busybox").stdout.strip()
    info = skiff("info")
    assert info.returncode == 0
    assert " Containers: " in info.stdout and " Images: " in info.stdout
    counts = skiff("info", "--format", "{{.Containers}} {{.ContainersStopped}}").stdout.split()
    assert int(counts[0]) >= 1 and int(counts[1]) >= 1
    assert skiff("version", "--format", "{{.Server.Engine}}").stdout == "skiff\n"
    skiff("rm", cid)


def test_run_interactive_feeds_stdin(skiff: Skiff) -> None:
    result = skiff("run", "--rm", "-i", "busybox", "cat", input="typed\n")
    assert (result.returncode, result.stdout, result.stderr) == (0, "typed\n", "")
