"""The ``skiff`` command line end to end: images saved and loaded, volumes, ports and
networks, signals and the system commands; see test_e2e.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.app.cli.e2ehelpers import Skiff, no_traceback, wait_for
from tests.fixtures.cli import COMMAND

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]


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
    no_traceback(missing)


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


def test_removals_go_on_past_a_failure_and_prunes_ask(skiff: Skiff) -> None:
    for name in ("cli-rm-a", "cli-rm-b"):
        skiff("volume", "create", name)
        skiff("network", "create", name)
    try:
        volumes = skiff("volume", "rm", "cli-rm-a", "cli-rm-none", "cli-rm-b")
        assert (volumes.returncode, volumes.stdout) == (1, "cli-rm-a\ncli-rm-b\n")
        assert volumes.stderr.startswith("Error response from daemon: ")
        assert "cli-rm-none" in volumes.stderr
        networks = skiff("network", "rm", "cli-rm-a", "cli-rm-none")
        assert (networks.returncode, networks.stdout) == (1, "cli-rm-a\n")
        assert networks.stderr == "Error response from daemon: network cli-rm-none not found\n"
        kept = skiff("network", "prune", input="n\n")
        assert kept.returncode == 0 and kept.stdout.startswith(
            "WARNING! This will remove all custom networks not used by at least one container."
            "\nAre you sure you want to continue? [y/N] ")
        assert "cli-rm-b" in skiff("network", "ls").stdout
        pruned = skiff("network", "prune", input="y\n")
        assert pruned.returncode == 0
        assert "Deleted Networks:\n" in pruned.stdout and "cli-rm-b\n" in pruned.stdout
        assert "cli-rm-b" not in skiff("network", "ls").stdout
    finally:
        skiff("volume", "rm", "cli-rm-a", "cli-rm-b")
        skiff("network", "rm", "cli-rm-a", "cli-rm-b")


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
    wait_for(lambda: _try_fetch(f"http://127.0.0.1:{host_port}/") == "served\n")
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
    wait_for(lambda: skiff("logs", cid).stdout == "ready\n")
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
