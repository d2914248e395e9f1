"""Log size: rotation by the monitor, logs across rotated files, and a full disk that
loses lines, not the container (issue 12, items 4 and 5)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from engine.containers.logopts import capped, log_limits, parse_log_options, user_defaults
from engine.containers.logs import read_log
from engine.errors import InvalidArgument
from engine.wire.logformat import LogWriter, log_files
from tests.fixtures import cli


def _read(path: Path, **options: object) -> list[str]:
    async def collect() -> list[str]:
        return [line.data.decode() async for line in read_log(path, **options)]  # type: ignore[arg-type]

    return asyncio.run(collect())


def test_rotation_keeps_max_file_files_and_logs_reads_across_them(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    writer = LogWriter(fd, log, max_size=1000, max_files=3)
    for n in range(200):
        writer.feed("stdout", f"line {n}\n".encode())
    os.close(fd)
    assert [os.path.basename(p) for p in log_files(log)] == ["ctr.log.2", "ctr.log.1", "ctr.log"]
    assert all(os.stat(p).st_size <= 1000 for p in log_files(log))
    lines = _read(log)
    assert lines[-1] == "line 199" and len(lines) < 200  # the oldest went
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers == list(range(numbers[0], 200))  # in order, across the files
    assert _read(log, tail=30) == [f"line {n}" for n in range(170, 200)]
    assert _read(log, tail=3) == ["line 197", "line 198", "line 199"]


def test_options_as_docker_checks_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert log_limits(parse_log_options("", ["max-size=10m", "max-file=3"])) == (10_000_000, 3)
    assert log_limits({}) == (0, 1)
    assert log_limits(capped({})) == (20_000_000, 5)
    assert log_limits(capped({"max-file": "100"})) == (20_000_000, 100)  # as dockerd takes it
    assert log_limits(capped({"max-size": "-1"})) == (0, 1)
    with pytest.raises(InvalidArgument, match="unknown log opt 'colour' for json-file"):
        parse_log_options("json-file", ["colour=blue"])
    with pytest.raises(InvalidArgument, match="no log driver named 'syslog'"):
        parse_log_options("syslog", [])
    with pytest.raises(InvalidArgument, match="max-size"):
        parse_log_options("local", ["max-size=lots"])
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_defaults() == {}
    (tmp_path / "skiff").mkdir()
    (tmp_path / "skiff" / "daemon.json").write_text('{"log-opts": {"max-size": "1m"}}')
    assert user_defaults() == {"max-size": "1m"}


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a small tmpfs")
    disk = tmp_path / "tiny"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_drops_lines_and_says_so_once_it_can(tiny_disk: Path) -> None:
    log = tiny_disk / "ctr.log"
    filler = tiny_disk / "filler"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    writer = LogWriter(fd, log)
    with open(filler, "wb") as f:
        try:
            f.write(b"x" * (1 << 20))
        except OSError:
            pass  # the disk is full now
    for n in range(2000):
        writer.feed("stdout", f"lost {n}\n".encode())  # never raises
    assert writer.dropped > 0
    filler.unlink()
    writer.feed("stdout", b"back\n")
    os.close(fd)
    lines = _read(log)
    assert lines[-2].startswith("[skiff: ") and "dropped while the disk was full" in lines[-2]
    assert lines[-1] == "back"


@pytest.mark.root
def test_a_container_log_is_rotated_and_read_whole(busybox_image: str) -> None:
    done = cli.skiff("run", "--name", "rotated", "--log-opt", "max-size=4k", "--log-opt",
                     "max-file=3", busybox_image, "sh", "-c",
                     "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done")
    try:
        assert done.returncode == 0, done.stderr
        inspected = cli.skiff("inspect", "rotated").stdout
        log_path = json.loads(inspected)[0]["LogPath"]
        spec = json.loads((Path(log_path).parent / "spec.json").read_text())
        assert (spec["log_max_size"], spec["log_max_files"]) == (4000, 3), spec
        files = sorted(p.name for p in Path(log_path).parent.iterdir())
        logged = cli.skiff("logs", "rotated").stdout.splitlines()
        assert "ctr.log.1" in files, (files, (Path(log_path).parent / "monitor.log").read_text())
        assert logged[-1] == "line 1999" and 100 < len(logged) < 2000
        assert cli.skiff("logs", "--tail", "5", "rotated").stdout.splitlines() == [
            f"line {n}" for n in range(1995, 2000)]
        config = cli.skiff("inspect", "--format", "{{json .HostConfig.LogConfig}}", "rotated")
        assert '"max-size":"4k"' in config.stdout.replace(" ", "")
        refused = cli.skiff("run", "--rm", "--log-opt", "colour=blue", busybox_image, "true")
        assert refused.returncode == 125 and "unknown log opt 'colour'" in refused.stderr
    finally:
        cli.skiff("rm", "-f", "rotated")


@pytest.mark.root
def test_a_container_that_fills_the_disk_keeps_running_and_can_be_removed(
        tmp_path: Path, busybox_docker_archive: Path, skiff_root: Path) -> None:
    """All of Skiff's storage on a 48 MB tmpfs that a log flood fills (with the session's
    private cgroup parent and network names, which ``skiff_root`` sets, and checks for
    leftovers: a flood left running would never be found otherwise)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(disk)], check=True)
    env = dict(os.environ, SKIFF_ROOT=str(disk))

    def skiff(*args: str) -> subprocess.CompletedProcess[str]:
        return cli.skiff(*args, env=env)

    def free() -> int:
        st = os.statvfs(disk)
        return st.f_bavail * st.f_frsize

    cid = ""
    try:
        assert skiff("load", "-i", str(busybox_docker_archive)).returncode == 0
        started = skiff("run", "-d", "--network", "none", "--log-opt", "max-size=-1",
                        "busybox", "sh", "-c", "while :; do echo flooding the disk with "
                        "a line that is long enough to fill it soon; done")
        assert started.returncode == 0, started.stderr
        cid = started.stdout.strip()
        deadline = time.monotonic() + 120
        while free() > 64 << 10 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert free() <= 64 << 10, "the flood did not fill the disk"
        time.sleep(1)
        for command in (("ps", "--format", "{{.Status}}"), ("logs", "--tail", "1", cid),
                        ("inspect", "--format", "{{.State.Running}}", cid)):
            out = skiff(*command)
            assert out.returncode == 0 and "Traceback" not in out.stderr, (command, out.stderr)
        assert skiff("inspect", "--format", "{{.State.Running}}", cid).stdout.strip() == "true"
        assert skiff("ps", "--format", "{{.Status}}").stdout.startswith("Up")
        assert skiff("stop", "-t", "1", cid).returncode == 0
        removed = skiff("rm", "-f", cid)
        assert removed.returncode == 0, removed.stderr
        cid = ""
        assert free() > 24 << 20, "removing the container freed its log"
        assert skiff("ps", "-aq").stdout.strip() == ""
    finally:
        if cid and skiff("rm", "-f", cid).returncode != 0:
            _kill_container_processes(cid)  # a flood left running slows every later test
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _kill_container_processes(cid: str) -> None:
    """The last resort when ``rm -f`` failed: every process in the container's cgroups."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and cid in (entry / "cgroup").read_text():
                os.kill(int(entry.name), 9)
        except OSError:
            continue
