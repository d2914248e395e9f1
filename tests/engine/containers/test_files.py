"""A container's files from outside: browse, read, copy in and out, its namespaces.

Real containers from the busybox test image, running and stopped. Symlinks in a
container that name host paths must resolve inside the container; no overlay
mount may outlive a look into a stopped container.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig
from engine.containers.files import CopyPlan, FileEntry, clean_path, plan_copy
from engine.errors import InvalidArgument, InvalidState, NotFound
from tests.fixtures.users import SubidUser
from tests.peers import HelperPeer

REPO = Path(__file__).resolve().parents[3]


# -- pure parts: docker cp's rule --------------------------------------------------------------

@pytest.mark.parametrize(("source", "is_dir", "dest", "kind", "plan"), [
    ("/etc/passwd", False, "/out/p", "missing", CopyPlan("/out", "p")),
    ("/etc/passwd", False, "/out", "dir", CopyPlan("/out", "passwd")),
    ("/etc/passwd", False, "/out/p", "file", CopyPlan("/out", "p")),
    ("/etc", True, "/out/new", "missing", CopyPlan("/out", "new")),
    ("/etc", True, "/out/new/", "missing", CopyPlan("/out", "new")),
    ("/etc", True, "/out", "dir", CopyPlan("/out", "etc")),
    ("/etc/", True, "/out", "dir", CopyPlan("/out", "etc")),
    ("/etc/.", True, "/out", "dir", CopyPlan("/out", ".")),
    ("/", True, "/out", "dir", CopyPlan("/out", ".")),
    ("/", True, "/out/root", "missing", CopyPlan("/out", "root")),
])
def test_plan_follows_docker_cp(source: str, is_dir: bool, dest: str, kind: str,
                                plan: CopyPlan) -> None:
    assert plan_copy(source, is_dir, dest, kind) == plan


@pytest.mark.parametrize(("source", "is_dir", "dest", "kind", "message"), [
    ("/etc", True, "/out/file", "file", "cannot copy a directory to a file"),
    ("/etc/passwd", False, "/out/missing/", "missing", "destination directory must exist"),
    ("/etc/passwd", False, "/out/file/", "file", "not a directory"),
])
def test_plan_refuses_what_docker_refuses(source: str, is_dir: bool, dest: str, kind: str,
                                          message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        plan_copy(source, is_dir, dest, kind)


def test_container_paths_are_absolute_and_clean() -> None:
    assert clean_path("etc/passwd") == "/etc/passwd"
    assert clean_path("//a/../b/./c/") == "/b/c"
    assert clean_path("/../../x") == "/x"
    with pytest.raises(InvalidArgument):
        clean_path("a\x00b")


def test_mode_string() -> None:
    entry = FileEntry("d", "/d", "dir", 0, 0o1777, 0, 0, 0)
    assert entry.mode_string == "drwxrwxrwt"


# -- with real containers ----------------------------------------------------------------------

def _overlays(root: Path) -> list[str]:
    """This session's overlays (other programs' containers come and go meanwhile)."""
    with open("/proc/self/mounts") as f:
        return [line for line in f if line.split()[2] == "overlay" and str(root) in line]


@pytest.fixture
def no_mounts_left(skiff_root: Path) -> Iterator[None]:
    before = _overlays(skiff_root)
    yield
    assert _overlays(skiff_root) == before, "a look into a container left a mount behind"


def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd) or None,
                           **options)  # type: ignore[arg-type]


async def started(engine: Engine, *cmd: str, name: str = "") -> str:
    container = await engine.containers.create(config(*cmd), name=name)
    await engine.containers.start(container.id)
    return container.id


async def finished(engine: Engine, *cmd: str, name: str = "") -> str:
    cid = await started(engine, *cmd, name=name)
    assert await engine.containers.wait(cid) == 0
    return cid


async def until_listed(engine: Engine, cid: str, path: str, name: str) -> list[FileEntry]:
    """A running container writes when it gets to it: wait for ``name`` to show up."""
    for _ in range(200):
        entries = await engine.containers.list_files(cid, path)
        if any(e.name == name for e in entries):
            return entries
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never appeared in {path}")


async def exec_output(engine: Engine, cid: str, *cmd: str) -> str:
    session = await engine.containers.exec(cid, list(cmd))
    out = b""
    while True:
        stream, data = await session.read()
        if not data:
            break
        if stream == "stdout":
            out += data
    assert await session.wait() == 0
    session.close()
    return out.decode()


@pytest.fixture
async def sleeper(engine: Engine) -> AsyncIterator[str]:
    """A running container that made /made-here, a directory tree and a symlink."""
    cid = await started(engine, "sh", "-c",
                        "echo hi > /made-here; mkdir -p /d/sub; echo f > /d/sub/f; "
                        "chmod 750 /d/sub; ln -s sub/f /d/link; touch /ready; sleep 600")
    await until_listed(engine, cid, "/", "ready")
    yield cid


@pytest.mark.root
async def test_list_a_running_container(engine: Engine, sleeper: str) -> None:
    entries = {e.name: e for e in await engine.containers.list_files(sleeper, "/")}
    assert entries["bin"].type == "dir" and entries["etc"].type == "dir"
    made = entries["made-here"]
    assert (made.type, made.size, made.uid, made.path) == ("file", 3, 0, "/made-here")
    assert [e.name for e in await engine.containers.list_files(sleeper, "/d")] == ["link", "sub"]
    link = next(e for e in await engine.containers.list_files(sleeper, "/d") if e.name == "link")
    assert (link.type, link.link_target) == ("symlink", "sub/f")
    sub = next(e for e in await engine.containers.list_files(sleeper, "d") if e.name == "sub")
    assert sub.mode == 0o750 and sub.mode_string == "drwxr-x---"


@pytest.mark.root
async def test_list_a_stopped_and_a_created_container(engine: Engine,
                                                       no_mounts_left: None) -> None:
    cid = await finished(engine, "sh", "-c", "echo hi > /made-here; rm /etc/group")
    names = {e.name for e in await engine.containers.list_files(cid, "/")}
    assert {"bin", "etc", "made-here"} <= names
    etc = {e.name for e in await engine.containers.list_files(cid, "/etc")}
    assert "passwd" in etc and "group" not in etc  # the container's whiteout counts
    created = await engine.containers.create(config("true"))
    assert {"bin", "etc"} <= {e.name for e in await engine.containers.list_files(created.id, "/")}


@pytest.mark.root
async def test_read_files(engine: Engine, sleeper: str, no_mounts_left: None) -> None:
    passwd = await engine.containers.read_file(sleeper, "/etc/passwd")
    assert b"app:x:1000:1000:app:/home/app:/bin/sh\n" in passwd
    assert await engine.containers.read_file(sleeper, "/etc/passwd", limit=5) == passwd[:5]
    assert await engine.containers.read_file(sleeper, "/d/link") == b"f\n"  # followed inside
    name = (await engine.containers.get(sleeper)).name
    with pytest.raises(NotFound, match=f"^Could not find the file /nope in container {name}$"):
        await engine.containers.read_file(sleeper, "/nope")
    with pytest.raises(InvalidArgument, match="is a directory"):
        await engine.containers.read_file(sleeper, "/etc")
    with pytest.raises(InvalidArgument, match="not a directory"):
        await engine.containers.list_files(sleeper, "/etc/passwd")
    with pytest.raises(InvalidArgument, match="kernel filesystem"):
        await engine.containers.read_file(sleeper, "/proc/1/status")
    await engine.containers.stop(sleeper, timeout=0)
    assert await engine.containers.read_file(sleeper, "/made-here") == b"hi\n"


@pytest.mark.root
async def test_symlinks_to_host_paths_stay_inside_the_container(
        engine: Engine, tmp_path: Path, no_mounts_left: None) -> None:
    secret = tmp_path / "secret"
    secret.write_text("HOST SECRET\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    depth = "../" * 12
    cid = await started(engine, "sh", "-c",
                        f"ln -s {secret} /abs; ln -s {depth}{str(secret)[1:]} /rel; "
                        f"ln -s {tmp_path} /dir; ln -s {drop} /drop; touch /ready; sleep 600")
    await until_listed(engine, cid, "/", "ready")
    for running in (True, False):
        for path in ("/abs", "/rel", "/dir/secret"):
            with pytest.raises(NotFound):
                await engine.containers.read_file(cid, path)
        with pytest.raises(NotFound):
            await engine.containers.copy_from(cid, "/dir", tmp_path / f"copied-{running}",
                                   follow_link=True)
        with pytest.raises(NotFound):  # the container has no such directory: not copied
            await engine.containers.copy_to(cid, secret, "/drop/x")
        if running:
            await exec_output(engine, cid, "sh", "-c",
                              f"mkdir -p {drop} && echo container > {secret}")
            assert await engine.containers.read_file(cid, "/abs") == b"container\n"
            await engine.containers.copy_to(cid, secret, "/drop/x")
            assert await engine.containers.read_file(cid, f"{drop}/x") == b"HOST SECRET\n"
            await exec_output(engine, cid, "rm", "-rf", str(tmp_path))  # the container's
            await engine.containers.stop(cid, timeout=0)
    assert secret.read_text() == "HOST SECRET\n"
    assert list(drop.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drop", "secret"]


@pytest.mark.root
async def test_copy_out_a_file_and_a_directory(engine: Engine, sleeper: str,
                                               tmp_path: Path) -> None:
    await engine.containers.copy_from(sleeper, "/etc/passwd", tmp_path / "p")
    assert b"app:x:1000" in (tmp_path / "p").read_bytes()
    (tmp_path / "into").mkdir()
    await engine.containers.copy_from(sleeper, "/made-here", tmp_path / "into")
    assert (tmp_path / "into" / "made-here").read_text() == "hi\n"
    await engine.containers.copy_from(sleeper, "/d", tmp_path / "tree")
    tree = tmp_path / "tree"
    assert (tree / "sub" / "f").read_text() == "f\n"
    assert os.readlink(tree / "link") == "sub/f"
    assert (tree / "sub").stat().st_mode & 0o7777 == 0o750
    await engine.containers.copy_from(sleeper, "/d/.", tmp_path / "into")
    assert sorted(p.name for p in (tmp_path / "into").iterdir()) == ["link", "made-here", "sub"]
    await engine.containers.copy_from(sleeper, "/d/link", tmp_path / "followed", follow_link=True)
    assert (tmp_path / "followed").read_text() == "f\n"
    with pytest.raises(InvalidArgument, match="does not exist"):
        await engine.containers.copy_from(sleeper, "/etc/passwd", tmp_path / "none" / "there")


@pytest.mark.root
async def test_big_files_and_hard_links_make_the_round_trip(engine: Engine, sleeper: str,
                                                            tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 << 20))
    await engine.containers.copy_to(sleeper, big, "/d/big.bin")
    await exec_output(engine, sleeper, "ln", "/d/big.bin", "/d/same.bin")
    await engine.containers.copy_from(sleeper, "/d", tmp_path / "back")
    back = tmp_path / "back"
    assert (back / "big.bin").read_bytes() == big.read_bytes()
    assert (back / "big.bin").stat().st_ino == (back / "same.bin").stat().st_ino
    assert len(await engine.containers.read_file(sleeper,
                                                 "/d/big.bin")) == 1 << 20  # the default limit


@pytest.mark.root
async def test_copy_into_a_stopped_container(engine: Engine, tmp_path: Path,
                                             no_mounts_left: None) -> None:
    source = tmp_path / "in"
    (source / "deeper").mkdir(parents=True)
    (source / "hello.txt").write_text("hello from the host\n")
    (source / "deeper" / "run.sh").write_text("#!/bin/sh\necho ran\n")
    (source / "deeper" / "run.sh").chmod(0o755)
    os.chown(source / "hello.txt", 1234, 1234)
    container = await engine.containers.create(config(
        "sh", "-c", "cat /in/hello.txt; /in/deeper/run.sh; stat -c %u:%g /in/hello.txt; "
                    "cat /etc/copied"))
    await engine.containers.copy_to(container.id, source, "/in")
    await engine.containers.copy_to(container.id, source / "hello.txt", "/etc/copied")
    with pytest.raises(NotFound, match="Could not find the file /nowhere in container"):
        await engine.containers.copy_to(container.id, source / "hello.txt", "/nowhere/x")
    await engine.containers.start(container.id)
    assert await engine.containers.wait(container.id) == 0
    lines = [line.data.decode() async for line in engine.containers.logs(container.id)]
    assert lines == ["hello from the host", "ran", "0:0", "hello from the host"]
    await engine.containers.copy_to(container.id, source / "hello.txt", "/kept", archive=True)
    kept = next(e for e in await engine.containers.list_files(container.id,
                                                              "/") if e.name == "kept")
    assert (kept.uid, kept.gid) == (1234, 1234)


@pytest.mark.root
async def test_copy_into_a_running_container(engine: Engine, sleeper: str,
                                             tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("a note\n")
    await engine.containers.copy_to(sleeper, tmp_path / "note.txt", "/tmp/")
    await engine.containers.copy_to(sleeper, tmp_path / "note.txt", "/d/renamed")
    assert await exec_output(engine, sleeper, "cat", "/tmp/note.txt", "/d/renamed") == \
        "a note\na note\n"
    with pytest.raises(InvalidArgument, match="directory"):
        await engine.containers.copy_to(sleeper, tmp_path, "/made-here")


@pytest.mark.root
async def test_tar_streams_both_ways(engine: Engine, sleeper: str) -> None:
    out = io.BytesIO()
    await engine.containers.get_archive(sleeper, "/d", out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert sorted(tar.getnames()) == ["d", "d/link", "d/sub", "d/sub/f"]
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w") as tar:
        data = b"from a tar\n"
        info = tarfile.TarInfo("x/y.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    stream.seek(0)
    await engine.containers.put_archive(sleeper, stream, "/tmp")
    assert await engine.containers.read_file(sleeper, "/tmp/x/y.txt") == b"from a tar\n"
    bad = io.BytesIO()
    with tarfile.open(fileobj=bad, mode="w") as tar:
        info = tarfile.TarInfo("../../escape")
        tar.addfile(info, io.BytesIO(b""))
    bad.seek(0)
    with pytest.raises(InvalidArgument, match="climbs out"):
        await engine.containers.put_archive(sleeper, bad, "/tmp")
    with pytest.raises(InvalidArgument, match="must be a directory"):
        await engine.containers.put_archive(sleeper, io.BytesIO(b""), "/made-here")


@pytest.mark.root
async def test_namespaces_of_a_running_container(engine: Engine, sleeper: str) -> None:
    spaces = {n.kind: n for n in await engine.containers.namespaces(sleeper)}
    for kind in ("pid", "mnt", "uts", "ipc", "net"):
        assert spaces[kind].container_inode != spaces[kind].host_inode
        assert not spaces[kind].shared
    assert spaces["user"].shared  # no user namespace yet
    assert spaces["net"].host_inode == os.stat("/proc/self/ns/net").st_ino
    await engine.containers.pause(sleeper)
    assert await engine.containers.namespaces(sleeper)
    assert "made-here" in {e.name for e in await engine.containers.list_files(sleeper, "/")}
    await engine.containers.unpause(sleeper)
    await engine.containers.stop(sleeper, timeout=0)
    with pytest.raises(InvalidState, match="is not running"):
        await engine.containers.namespaces(sleeper)


# -- the CLI -------------------------------------------------------------------------------

def skiff(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args],
                          cwd=REPO, input=stdin, capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.root
async def test_cli_cp_both_ways(engine: Engine, tmp_path: Path) -> None:
    cid = await started(engine, "sleep", "600", name="cp-target")
    (tmp_path / "up.txt").write_text("up\n")
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, skiff, "cp", str(tmp_path / "up.txt"),
                                        "cp-target:/tmp/")
    assert (result.returncode, result.stderr) == (0, b"")
    result = await loop.run_in_executor(None, skiff, "cp", "cp-target:/tmp/up.txt",
                                        str(tmp_path / "down.txt"))
    assert (result.returncode, result.stderr) == (0, b"")
    assert (tmp_path / "down.txt").read_text() == "up\n"
    result = await loop.run_in_executor(None, skiff, "cp", "cp-target:/nope", str(tmp_path))
    assert (result.returncode, result.stderr) == (
        1, b"Error response from daemon: Could not find the file /nope in container "
           b"cp-target\n")
    result = await loop.run_in_executor(None, skiff, "cp", "cp-target:/etc/passwd", "-")
    assert result.returncode == 0
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tar:
        assert tar.getnames() == ["passwd"]
    tar_bytes = result.stdout
    result = await loop.run_in_executor(
        None, lambda: skiff("cp", "-", "cp-target:/tmp", stdin=tar_bytes))
    assert (result.returncode, result.stderr) == (0, b"")
    assert b"app:x:1000" in await engine.containers.read_file(cid, "/tmp/passwd")
    result = await loop.run_in_executor(None, skiff, "cp", "a", "b")
    assert (result.returncode, result.stderr) == (
        1, b"must specify at least one container source\n")


# -- a caller who is not root, straight at the helper --------------------------------------------



def _put(peer: HelperPeer, cid: str, members: list[tuple[tarfile.TarInfo, bytes]]
         ) -> dict[str, object]:
    """Unpack a tar in the container's /; the fsview process's last word."""
    reply, fds = peer.call("container_fs", {"id": cid, "op": "put", "path": "/",
                                            "follow": True, "limit": 0, "name": ".",
                                            "archive": True})
    assert "result" in reply, reply
    data, status = fds
    with os.fdopen(data, "wb") as sink, tarfile.open(fileobj=sink, mode="w|") as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if info.isreg() else None)
    with os.fdopen(status, "rb") as f:
        return dict(json.loads(f.read().splitlines()[-1]))


@pytest.mark.root
async def test_a_user_cannot_plant_set_id_files_or_devices(
        engine: Engine, tmp_path: Path, no_mounts_left: None, subid_user: SubidUser) -> None:
    """A set-uid root file in a container dir would be one path away from the host."""
    layer = (await engine.images.get("busybox")).layers[0]
    root = tmp_path / "helper"
    peer = HelperPeer(root, subid_user.uid)
    try:
        fd = os.open(engine._shared.blobs.path(layer.digest), os.O_RDONLY)
        reply, _ = peer.call("unpack_layer", {"diff_id": layer.diff_id, "digest": layer.digest},
                             [fd])
        os.close(fd)
        assert "result" in reply, reply
        cid = "e" * 64
        spec = {"args": ["true"], "env": [], "cwd": "/", "hostname": "h",
                "layers": [layer.diff_id], "restart_policy": "no", "restart_max": 0,
                "stop_signal": 15, "network_mode": "none", "ports": [], "exposed": [],
                "aliases": [], "name": "t", "binds": []}
        reply, _ = peer.call("container_create", {"id": cid, "spec": spec})
        assert "result" in reply, reply
        evil = tarfile.TarInfo("evil")
        evil.mode, evil.uid, evil.gid, evil.size = 0o6755, 0, 0, 4
        assert _put(peer, cid, [(evil, b"#!/x")])["ok"]
        upper = root / "users" / str(subid_user.uid) / "containers" / cid / "fs" / "upper"
        planted = (upper / "evil").stat()
        # owned by container root, which is the user on the host
        assert (planted.st_mode & 0o7777, planted.st_uid) == (0o755, subid_user.uid)
        device = tarfile.TarInfo("disk")
        device.type, device.devmajor, device.devminor = tarfile.BLKTYPE, 8, 0
        last = _put(peer, cid, [(device, b"")])
        assert not last["ok"] and "only root may copy device files" in str(last["message"])
        assert not (upper / "disk").exists()
        reply, _ = peer.call("container_fs", {"id": cid, "op": "stat", "path": "/evil",
                                                "follow": False, "limit": 0, "name": ".",
                                                "archive": False})
        assert reply["result"]["mode"] == 0o755  # type: ignore[index]
        reply, _ = peer.call("container_remove", {"id": cid, "force": False})
        assert "result" in reply, reply
    finally:
        peer.close()
