"""The ``skiff`` command line end to end: a subprocess against the real engine.

Each test runs ``python -m app.cli`` with the session's private SKIFF_ROOT and
cgroup parent (set by the ``skiff_root`` fixture), on the busybox test image,
and removes every container it made.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.app.cli.e2ehelpers import Skiff, no_traceback, wait_for

pytestmark = pytest.mark.root


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
    no_traceback(result)
    assert len(result.stderr.splitlines()) == 1
    assert "nosuchcmd" in result.stderr
    assert skiff("ps", "-aq").stdout == ""  # --rm removed it even though it never ran


def test_run_unknown_image_is_125_with_one_line(skiff: Skiff) -> None:
    result = skiff("run", "--pull", "never", "nosuchimage")
    assert result.returncode == 125
    no_traceback(result)
    assert result.stderr.count("\n") == 1
    assert "nosuchimage" in result.stderr
    assert result.stdout == ""


def test_run_pulls_a_missing_image_first(skiff: Skiff) -> None:
    # Nothing listens on port 1 of loopback: the pull is tried and fails cleanly.
    result = skiff("run", "127.0.0.1:1/nosuch/image")
    assert result.returncode == 125
    no_traceback(result)
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

    wait_for(lambda: "oops" in skiff("logs", "cli-life").stderr)
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
    wait_for(lambda: skiff("ps", "-q").stdout == "")


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
    no_traceback(result)
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
