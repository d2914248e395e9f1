"""The docker commands Skiff lacked: system df/prune, image and container prune,
history, export, import and update, end to end against real containers.

Outputs, flags, exit codes and error texts are docker's (docker 28's CLI).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import COMMAND
from tests.fixtures.cli import skiff as _run

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]
Skiff = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def skiff(busybox_image: str, skiff_root: Path) -> Iterator[Skiff]:
    """Runs the CLI; removes the containers, images and volumes made meanwhile."""
    def listed(*args: str) -> set[str]:
        return set(_run(*args).stdout.split())

    containers = listed("ps", "-aq", "--no-trunc")
    images = listed("images", "-q", "--no-trunc")
    volumes = listed("volume", "ls", "-q")
    yield _run
    leftover = listed("ps", "-aq", "--no-trunc") - containers
    if leftover:
        _run("rm", "-f", *sorted(leftover))
    for image in listed("images", "-q", "--no-trunc") - images:
        _run("rmi", "-f", image)
    for volume in listed("volume", "ls", "-q") - volumes:
        _run("volume", "rm", volume)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _wait(condition: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def _limits(container_id: str) -> Any:
    from engine.cgroups import open_cgroup

    return open_cgroup(container_id, os.environ["SKIFF_CGROUP_PARENT"]).limits()


# -- update ---------------------------------------------------------------------------

def test_update_limits_of_a_running_and_a_stopped_container(skiff: Skiff) -> None:
    cid = _ok(skiff("run", "-d", "--name", "upd", "busybox", "sleep", "300")).strip()
    assert _ok(skiff("update", "-m", "64m", "--cpus", "0.5", "--pids-limit", "20",
                     "upd")) == "upd\n"
    limits = _limits(cid)
    assert (limits.memory, limits.nano_cpus, limits.pids) == (64 << 20, 500_000_000, 20)
    host = json.loads(_ok(skiff("inspect", "upd")))[0]["HostConfig"]
    assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (64 << 20, 500_000_000, 20)
    assert _ok(skiff("update", "--pids-limit", "-1", "upd")) == "upd\n"
    assert _limits(cid).pids is None and _limits(cid).memory == 64 << 20  # the rest stays
    # A stopped container keeps them for its next start.
    _ok(skiff("create", "--name", "later", "busybox", "sleep", "300"))
    assert _ok(skiff("update", "--memory", "32m", "later")) == "later\n"
    later = _ok(skiff("start", "later")).strip()
    assert _limits(_ok(skiff("inspect", "-f", "{{.Id}}", later)).strip()).memory == 32 << 20


def test_update_restart_policy_of_a_running_container(skiff: Skiff) -> None:
    _ok(skiff("run", "-d", "--name", "flaky", "busybox", "sh", "-c",
              "while [ ! -f /stop ]; do sleep 0.1; done; exit 3"))
    assert _ok(skiff("update", "--restart", "on-failure:2", "flaky")) == "flaky\n"
    _ok(skiff("exec", "flaky", "touch", "/stop"))  # every run exits 3 from now on

    def done() -> bool:
        state = json.loads(_ok(skiff("inspect", "flaky")))[0]
        return state["State"]["Status"] == "exited" and state["RestartCount"] == 2

    _wait(done)
    policy = json.loads(_ok(skiff("inspect", "flaky")))[0]["HostConfig"]["RestartPolicy"]
    assert policy == {"Name": "on-failure", "MaximumRetryCount": 2}


def test_update_refusals(skiff: Skiff) -> None:
    _ok(skiff("create", "--name", "target", "busybox", "true"))
    none = skiff("update", "target")
    assert (none.returncode, none.stderr) == (
        1, "you must provide one or more flags when using this command\n")
    small = skiff("update", "-m", "1m", "target")
    assert small.returncode == 1
    assert small.stderr == "Error response from daemon: Minimum memory limit allowed is 6MB\n"
    bad = skiff("update", "--memory", "1x", "target")
    assert bad.returncode == 125 and "invalid argument \"1x\"" in bad.stderr
    mixed = skiff("update", "--cpus", "1", "nosuch", "target")
    assert (mixed.returncode, mixed.stdout) == (1, "target\n")
    assert mixed.stderr == "Error response from daemon: No such container: nosuch\n"
    _ok(skiff("create", "--rm", "--name", "gone", "busybox", "true"))
    auto = skiff("update", "--restart", "always", "gone")
    assert auto.returncode == 1
    assert "Restart policy cannot be updated because AutoRemove is enabled" in auto.stderr


# -- system df ------------------------------------------------------------------------

def test_system_df_and_its_details(skiff: Skiff) -> None:
    _ok(skiff("run", "--name", "writer", "-v", "dfvol:/data", "busybox", "sh", "-c",
              "head -c 300000 /dev/zero > /big; head -c 70000 /dev/zero > /data/v"))
    _ok(skiff("run", "-d", "--name", "idle", "busybox", "sleep", "300"))
    lines = _ok(skiff("system", "df")).splitlines()
    assert lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    rows = {line[:16].strip(): line[16:].split() for line in lines[1:]}
    assert list(rows) == ["Images", "Containers", "Local Volumes", "Build Cache"]
    assert rows["Containers"][:2] == ["2", "1"]
    assert rows["Containers"][2] == "300kB"  # what writer wrote, all reclaimable
    assert rows["Containers"][3:] == ["300kB", "(100%)"]
    assert rows["Build Cache"] == ["0", "0", "0B", "0B"]
    data = [json.loads(line) for line in _ok(skiff("system", "df", "--format",
                                                   "json")).splitlines()]
    volumes = next(d for d in data if d["Type"] == "Local Volumes")
    assert int(volumes["TotalCount"]) >= 1 and int(volumes["Active"]) >= 1
    assert _ok(skiff("system", "df", "--format", "{{.Type}}")).split("\n")[:2] == [
        "Images", "Containers"]

    verbose = _ok(skiff("system", "df", "-v"))
    assert verbose.startswith("Images space usage:\n\nREPOSITORY ")
    for part in ("\nContainers space usage:\n\nCONTAINER ID ", "\nLocal Volumes space usage:"
                 "\n\nVOLUME NAME ", "\nBuild cache usage: 0B\n\nCACHE ID "):
        assert part in verbose
    writer = next(line for line in verbose.splitlines() if line.endswith(" writer"))
    assert " 300kB " in writer
    volume = next(line for line in verbose.splitlines() if line.startswith("dfvol "))
    assert volume.split() == ["dfvol", "1", "70kB"]
    busybox = next(line for line in verbose.splitlines() if line.startswith("busybox "))
    assert busybox.split()[-1] == "2"  # two containers made from it


# -- prune ----------------------------------------------------------------------------

def test_container_prune_asks_then_removes_the_stopped_ones(skiff: Skiff) -> None:
    stopped = _ok(skiff("run", "-d", "busybox", "sh", "-c",
                        "head -c 5000 /dev/zero > /f")).strip()
    _ok(skiff("wait", stopped))
    running = _ok(skiff("run", "-d", "busybox", "sleep", "300")).strip()
    declined = skiff("container", "prune", input="n\n")
    assert (declined.returncode, declined.stdout) == (
        0, "WARNING! This will remove all stopped containers.\n"
           "Are you sure you want to continue? [y/N] ")
    assert stopped in _ok(skiff("ps", "-aq", "--no-trunc"))
    pruned = skiff("container", "prune", input="y\n")
    assert _ok(pruned).endswith("Are you sure you want to continue? [y/N] Deleted Containers:\n"
                                f"{stopped}\n\nTotal reclaimed space: 5kB\n")
    assert _ok(skiff("ps", "-aq", "--no-trunc")).split() == [running]


def test_image_prune_dangling_then_all_unused(skiff: Skiff, tmp_path: Path) -> None:
    tar = tmp_path / "rootfs.tar"
    with tarfile.open(tar, "w") as out:
        info = tarfile.TarInfo("hello")
        info.size = 3
        out.addfile(info, io.BytesIO(b"hi\n"))
    dangling = _ok(skiff("import", str(tar))).strip()
    named = _ok(skiff("import", "-m", "other", str(tar), "prunable:1")).strip()
    assert dangling != named
    warned = skiff("image", "prune", input="")
    assert warned.stdout == ("WARNING! This will remove all dangling images.\n"
                             "Are you sure you want to continue? [y/N] ")
    assert _ok(skiff("image", "prune", "-f")) == (
        f"Deleted Images:\ndeleted: {dangling}\n\nTotal reclaimed space: 0B\n")
    # Every other image (busybox, and what other tests of the session keep) gets a
    # container, so -a leaves them all.
    for image in set(_ok(skiff("images", "-q", "--no-trunc")).split()) - {named}:
        _ok(skiff("create", "--entrypoint", "true", image))
    everything = _ok(skiff("image", "prune", "-a", "-f")).splitlines()
    assert everything[:3] == ["Deleted Images:", "untagged: prunable:1", f"deleted: {named}"]
    assert everything[-1] == "Total reclaimed space: 3B"  # the layer no image uses now: its file
    assert _ok(skiff("images", "--format", "{{.Repository}}")).split().count("busybox") == 1


def test_system_prune_in_docker_order(skiff: Skiff, busybox_docker_archive: Path) -> None:
    _ok(skiff("network", "create", "prunenet"))
    stopped = _ok(skiff("create", "-v", "/anon", "busybox", "true")).strip()
    warning = skiff("system", "prune", "--volumes", input="no\n").stdout
    assert warning == ("WARNING! This will remove:\n  - all stopped containers\n"
                       "  - all networks not used by at least one container\n"
                       "  - all anonymous volumes not used by at least one container\n"
                       "  - all dangling images\n  - unused build cache\n\n"
                       "Are you sure you want to continue? [y/N] ")
    volume = json.loads(_ok(skiff("inspect", stopped)))[0]["Mounts"][0]["Name"]
    out = _ok(skiff("system", "prune", "-f", "--volumes"))
    assert out.startswith(f"Deleted Containers:\n{stopped}\n\nDeleted Networks:\nprunenet\n\n"
                          f"Deleted Volumes:\n{volume}\n\n")
    assert re.search(r"\nTotal reclaimed space: [0-9.]+k?B\n$", out)
    assert _ok(skiff("network", "ls", "-q", "--filter", "name=prunenet")) == ""


# -- history --------------------------------------------------------------------------

def test_history_of_the_test_image(skiff: Skiff) -> None:
    image_id = _ok(skiff("images", "-q", "busybox")).strip()
    lines = _ok(skiff("history", "busybox")).splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert lines[1].startswith(f"{image_id}   ") and 'CMD ["sh"]' in lines[1]
    assert re.search(r" 0B\s*$", lines[1])
    assert lines[2].startswith("<missing>   ") and "busybox rootfs with applet links" in lines[2]
    assert re.search(r" 1\.98MB\s*$", lines[2])  # its files, as docker counts (not the tar)
    assert _ok(skiff("history", "-q", "busybox")).split() == [image_id, "<missing>"]
    full = _ok(skiff("history", "--no-trunc", "-H=false", "--format",
                     "{{.ID}}|{{.CreatedSince}}|{{.Size}}", "busybox")).splitlines()
    long_id = _ok(skiff("images", "-q", "--no-trunc", "busybox")).strip()
    assert full == [f"{long_id}|2024-01-01T00:00:00Z|0",
                    "<missing>|2024-01-01T00:00:00Z|1984307"]
    rows = [json.loads(line) for line in _ok(skiff("history", "--format", "json",
                                                   "busybox")).splitlines()]
    assert rows[0]["CreatedBy"] == 'CMD ["sh"]' and rows[0]["ID"] == image_id
    missing = skiff("history", "nosuchimage")
    assert missing.returncode == 1
    assert missing.stderr == "Error response from daemon: No such image: nosuchimage\n"


# -- export and import ----------------------------------------------------------------

def test_export_then_import_with_changes(skiff: Skiff, tmp_path: Path) -> None:
    _ok(skiff("run", "--name", "source", "busybox", "sh", "-c",
              "echo exported > /note.txt"))
    archive = tmp_path / "source.tar"
    _ok(skiff("export", "-o", str(archive), "source"))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert tar.extractfile("note.txt").read() == b"exported\n"  # type: ignore[union-attr]
    assert "bin/busybox" in names and "proc" in [n.rstrip("/") for n in names]
    streamed = subprocess.run([*COMMAND, "export", "source"], cwd=REPO,
                              capture_output=True, timeout=60, env=dict(os.environ))
    assert streamed.returncode == 0 and streamed.stdout[:512] == archive.read_bytes()[:512]

    image_id = _ok(skiff("import", "-c", 'CMD ["cat", "/note.txt"]', "-c", "ENV MODE=prod",
                         "-c", "WORKDIR /srv", "-c", "EXPOSE 8080", str(archive),
                         "imported:v1")).strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_id)
    assert _ok(skiff("run", "--rm", "imported:v1")) == "exported\n"
    config = json.loads(_ok(skiff("image", "inspect", "imported:v1")))[0]["Config"]
    assert config["Cmd"] == ["cat", "/note.txt"] and "MODE=prod" in config["Env"]
    assert config["WorkingDir"] == "/srv" and "8080/tcp" in config["ExposedPorts"]
    history = _ok(skiff("history", "--format", "{{.Comment}}", "imported:v1"))
    assert history == "Imported from -\n"

    piped = _run("import", "-m", "from a pipe", "-", "imported:gz",
                 stdin_bytes=gzip.compress(archive.read_bytes()))
    assert _ok(piped).startswith("sha256:")
    assert _ok(skiff("history", "--format", "{{.Comment}}", "imported:gz")) == "from a pipe\n"
    assert _ok(skiff("run", "--rm", "imported:gz", "cat", "/note.txt")) == "exported\n"


def test_export_and_import_refusals(skiff: Skiff, tmp_path: Path) -> None:
    missing = skiff("export", "nosuch")
    assert missing.returncode == 1
    assert missing.stderr == "Error response from daemon: No such container: nosuch\n"
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("just words\n")
    bad = skiff("import", str(not_tar))
    assert bad.returncode == 1 and "not a tar archive" in bad.stderr
    run = skiff("import", "-c", "RUN make", str(not_tar))
    assert run.stderr == "Error response from daemon: RUN is not a valid change command\n"
    onbuild = skiff("import", "-c", "ONBUILD RUN x", str(not_tar))
    assert "ONBUILD is not supported by skiff import" in onbuild.stderr
    empty = _run("import", "-", stdin_bytes=b"")
    assert (empty.returncode, empty.stderr) == (
        1, "requested import from stdin, but stdin is empty\n")
    nofile = skiff("import", str(tmp_path / "nothing.tar"))
    assert nofile.returncode == 1 and "no such file" in nofile.stderr
