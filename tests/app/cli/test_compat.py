"""Where a docker user's habits meet Skiff: the CLI behaves as docker's does.

Each test runs ``python -m app.cli`` against the real engine (the session's
private SKIFF_ROOT, the busybox test image) and compares with what docker
prints and returns for the same command.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import skiff as _run

pytestmark = pytest.mark.root

Skiff = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def skiff(busybox_image: str, skiff_root: Path) -> Iterator[Skiff]:
    """Runs the CLI; removes the containers created meanwhile."""
    before = set(_run("ps", "-aq", "--no-trunc").stdout.split())
    yield _run
    leftover = set(_run("ps", "-aq", "--no-trunc").stdout.split()) - before
    if leftover:
        _run("rm", "-f", *sorted(leftover))


def _one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr


# -- 9: exit codes and error texts ------------------------------------------------------

def test_stop_of_a_stopped_container_exits_0(skiff: Skiff) -> None:
    assert skiff("run", "--name", "stopped-once", "busybox", "true").returncode == 0
    again = skiff("stop", "stopped-once")
    assert (again.returncode, again.stdout, again.stderr) == (0, "stopped-once\n", "")
    created = skiff("create", "--name", "never-ran", "busybox", "true")
    assert created.returncode == 0
    assert skiff("stop", "never-ran").returncode == 0
    assert skiff("stop", "no-such-container").returncode == 1


@pytest.mark.parametrize(("flags", "expected"), [
    (["-m", "1m"], "Minimum memory limit allowed is 6MB"),
    (["--memory", "5m"], "Minimum memory limit allowed is 6MB"),
    (["--cpus", "0.001"], "Range of CPUs is from 0.01 to"),
    (["--name", "n" * 300], "Invalid container name (nnnnnnnnnnnnnnnnnnnn..., 300 characters)"),
    (["--name=-dash"], "Invalid container name (-dash), only [a-zA-Z0-9][a-zA-Z0-9_.-]"),
    (["-h", "not_a_hostname"], 'invalid hostname "not_a_hostname"'),
    (["-u", "a/b"], 'invalid user "a/b"'),
    (["--network-alias", "no/slashes"], 'invalid network alias "no/slashes"'),
])
def test_refusals_speak_docker_not_schema(skiff: Skiff, flags: list[str], expected: str
                                          ) -> None:
    for command in ("create", "run"):
        result = skiff(command, *flags, "busybox", "true")
        assert result.returncode == 125
        line = _one_clean_line(result)
        assert line.startswith("skiff: Error response from daemon: ")
        assert expected in line, line
        for internal in ("spec.", "container_create", "malformed value", "4194304"):
            assert internal not in line, line
    assert skiff("ps", "-aq").stdout == ""


def test_a_name_of_the_longest_length_is_accepted(skiff: Skiff) -> None:
    name = "n" * 128
    created = skiff("create", "--name", name, "busybox", "true")
    assert created.returncode == 0, created.stderr
    assert skiff("ps", "-a", "--format", "{{.Names}}").stdout.split() == [name]
    renamed = skiff("rename", name, "m" * 129)
    assert renamed.returncode == 1
    assert "at most 128 characters" in _one_clean_line(renamed)


# -- 10: diff lists what the container did, not what the runtime made -------------------

def test_diff_of_a_container_that_wrote_nothing_is_empty(skiff: Skiff, tmp_path: Path) -> None:
    host = tmp_path / "shared"
    host.mkdir()
    (tmp_path / "single").write_text("one file\n")
    assert skiff("run", "--name", "quiet", "busybox", "true").returncode == 0
    assert (skiff("diff", "quiet").stdout, skiff("diff", "quiet").returncode) == ("", 0)
    mounted = skiff("run", "--name", "mounted", "-v", f"{host}:/new/deep/dir",
                    "-v", f"{tmp_path / 'single'}:/etc/single.conf",
                    "-v", "diffvol:/var/lib/data", "busybox", "true")
    assert mounted.returncode == 0, mounted.stderr
    assert skiff("diff", "mounted").stdout == ""
    wrote = skiff("run", "--name", "wrote", "-v", f"{host}:/new/dir", "busybox", "sh", "-c",
                  "echo hi > /etc/motd; echo x > /new/mine")
    assert wrote.returncode == 0, wrote.stderr
    assert skiff("diff", "wrote").stdout.splitlines() == [
        "C /etc", "A /etc/motd", "A /new", "A /new/mine"]
    skiff("rm", "mounted")
    assert skiff("volume", "rm", "diffvol").returncode == 0


# -- 14: inspect's paths and network inspect as docker shows them ---------------------------

def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_inspect_shows_real_sandbox_and_etc_file_paths(skiff: Skiff) -> None:
    assert skiff("create", "--name", "paths", "-h", "boathouse", "busybox", "sleep",
                 "300").returncode == 0
    created = _json(skiff("inspect", "paths"))[0]
    assert created["NetworkSettings"]["SandboxKey"] == ""  # no sandbox before it runs
    assert skiff("start", "paths").returncode == 0
    found = _json(skiff("inspect", "paths"))[0]
    settings = found["NetworkSettings"]
    sandbox = Path(settings["SandboxKey"])
    assert sandbox.is_absolute()
    assert sandbox.stat().st_ino == Path(f"/proc/{found['State']['Pid']}/ns/net").stat().st_ino
    assert re.fullmatch(r"[0-9a-f]{64}", settings["SandboxID"])
    for key, text in (("HostsPath", "boathouse"), ("HostnamePath", "boathouse\n"),
                      ("ResolvConfPath", "nameserver")):
        path = Path(found[key])
        assert path.is_absolute() and text in path.read_text(), (key, path)
    inside = skiff("exec", "paths", "cat", "/etc/hosts").stdout
    assert inside == Path(found["HostsPath"]).read_text()
    assert skiff("stop", "-t", "0", "paths").returncode == 0
    stopped = _json(skiff("inspect", "paths"))[0]
    assert stopped["NetworkSettings"]["SandboxKey"] == ""  # no sandbox without processes
    assert stopped["HostsPath"] == found["HostsPath"]


def test_network_inspect_has_created_and_docker_containers(skiff: Skiff) -> None:
    before = time.time()
    assert skiff("network", "create", "compatnet").returncode == 0
    try:
        network = _json(skiff("network", "inspect", "compatnet"))[0]
        created = datetime.datetime.fromisoformat(network["Created"][:26] + "+00:00")
        assert before - 5 < created.timestamp() < time.time() + 5
        cid = skiff("run", "-d", "--name", "member", "--network", "compatnet", "busybox",
                    "sleep", "300").stdout.strip()
        network = _json(skiff("network", "inspect", "compatnet"))[0]
        assert list(network["Containers"]) == [cid]
        entry = network["Containers"][cid]
        assert sorted(entry) == ["EndpointID", "IPv4Address", "IPv6Address", "MacAddress",
                                 "Name"]
        settings = _json(skiff("inspect", "member"))[0]["NetworkSettings"]["Networks"]
        own = settings["compatnet"]
        assert entry["Name"] == "member"
        assert re.fullmatch(r"[0-9a-f]{64}", entry["EndpointID"])
        assert entry["EndpointID"] == own["EndpointID"]
        assert own["NetworkID"] == network["Id"]
        assert entry["MacAddress"] == own["MacAddress"]
        assert entry["IPv4Address"] == f"{own['IPAddress']}/{own['IPPrefixLen']}"
        bridge = skiff("network", "inspect", "-f", "{{.Created}}", "bridge").stdout
        assert bridge.strip() and bridge == skiff("network", "inspect", "-f", "{{.Created}}",
                                                  "bridge").stdout
    finally:
        skiff("rm", "-f", "member")
        skiff("network", "rm", "compatnet")
