"""Bind mounts the kernel checks: sources opened by the caller, mounted from descriptors.

Three layers: the pure parts (mount flags, matching descriptors to binds); the
engine's opening step run as another user (fork + setuid), so the kernel
decides; and real containers, started by root through the engine and by a
user straight at the helper (tests/peers.py), checked from inside.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.bindsources import open_bind_source, open_bind_sources
from engine.containers.config import ContainerConfig, MountSpec
from engine.errors import InvalidArgument
from engine.helper import syscalls as sc
from engine.helper.runtime.mounts import bind_attributes
from engine.helper.runtime.spec import Bind
from engine.helper.sources import match_sources
from tests import peers
from tests.fixtures.users import SubidUser
from tests.peers import NOBODY, HelperPeer

# -- pure ------------------------------------------------------------------------------


def test_bind_attributes() -> None:
    ro, nosuid, nodev = sc.MOUNT_ATTR_RDONLY, sc.MOUNT_ATTR_NOSUID, sc.MOUNT_ATTR_NODEV
    assert bind_attributes(read_only=False, owner_uid=0, device_mode="cgroup") == 0
    assert bind_attributes(read_only=True, owner_uid=0, device_mode="cgroup") == ro
    assert bind_attributes(read_only=True, owner_uid=1000, device_mode="cgroup") == \
        ro | nosuid | nodev
    assert bind_attributes(read_only=False, owner_uid=0, device_mode="nodev") == nodev


def test_specs_written_before_descriptors_still_read() -> None:
    assert Bind.from_json({"source": "/srv", "target": "/x", "read_only": True, "kind": "dir",
                           "copy_up": False}) == Bind("bind", "/srv", "/x", True)
    volume = Bind.from_json({"source": "/var/lib/skiff/users/0/volumes/data/_data",
                             "target": "/d", "read_only": False, "kind": "dir",
                             "copy_up": True})
    assert volume == Bind("volume", "data", "/d") and volume.copy_up
    assert Bind.from_json({"source": "tmpfs", "target": "/t", "read_only": False,
                           "kind": "tmpfs", "copy_up": False}) == Bind("tmpfs", "", "/t")


def test_descriptors_must_match_the_binds() -> None:
    binds = [Bind("bind", "/a", "/a"), Bind("volume", "v", "/v"), Bind("bind", "/b", "/b"),
             Bind("tmpfs", "", "/t")]
    r, w = os.pipe()
    try:
        assert match_sources(binds, [r, w], None, complete=True) == {0: r, 2: w}
        assert match_sources(binds, [w], [2], complete=False) == {2: w}
        with pytest.raises(InvalidArgument, match="bind source /a was not opened by the caller"):
            match_sources(binds, [w], [2], complete=True)
        with pytest.raises(InvalidArgument, match="do not match"):
            match_sources(binds, [r], [1], complete=False)  # a volume is ours to open
        with pytest.raises(InvalidArgument, match="do not match"):
            match_sources(binds, [r, w], [0, 0], complete=False)
        with pytest.raises(InvalidArgument, match="2 descriptors came for 1"):
            match_sources(binds, [r, w], [0], complete=False)
    finally:
        os.close(r)
        os.close(w)


def test_the_engine_opens_what_it_names(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    opened = open_bind_sources([
        {"type": "bind", "source": str(tmp_path / "dir"), "target": "/d", "read_only": True},
        {"type": "volume", "source": "v", "target": "/v", "read_only": False},
        {"type": "bind", "source": str(tmp_path / "file"), "target": "/f", "read_only": False},
        {"type": "bind", "source": str(tmp_path / "gone"), "target": "/g", "read_only": True},
    ], create=False, skip_missing=True)
    with opened:
        assert opened.sources == [0, 2]
        assert stat.S_ISDIR(os.fstat(opened.fds[0]).st_mode)
        assert os.fstat(opened.fds[1]).st_ino == (tmp_path / "file").stat().st_ino
    assert opened.fds == []
    with pytest.raises(InvalidArgument, match=r"^bind source path does not exist: "):
        open_bind_source(str(tmp_path / "gone"), True, create=False)
    with pytest.raises(InvalidArgument, match="must be an absolute path"):
        open_bind_source("relative", True, create=True)


# -- the engine's opening step, as a user -------------------------------------------------

@pytest.fixture
def world() -> Iterator[Path]:
    """A directory every user can traverse (pytest's own tmp dirs are 0700), with a
    root-only directory, a directory anyone may read but only root write, and one
    anyone may write."""
    path = Path(tempfile.mkdtemp(prefix="skiff-test-world-"))
    os.chmod(path, 0o755)
    (path / "secret").mkdir(mode=0o700)
    (path / "secret" / "key").write_text("root only\n")
    (path / "public").mkdir(mode=0o755)
    (path / "public" / "which").write_text("public\n")
    (path / "open").mkdir()
    os.chmod(path / "open", 0o777)
    yield path
    shutil.rmtree(path)


def _said(action: Callable[[], object]) -> object:
    try:
        return action()
    except InvalidArgument as exc:
        return str(exc)


def as_user(uid: int, action: Callable[[], object]) -> object:
    """``action()`` in a child running as ``uid`` (no groups): its result, or the
    message of the InvalidArgument it raised."""
    return peers.as_user(uid, uid, _said, action)[1]


def _owner_of_opened(path: str, read_only: bool = True, create: bool = True
                     ) -> Callable[[], object]:
    def action() -> object:
        fd = open_bind_source(path, read_only, create=create)
        try:
            return os.fstat(fd).st_uid
        finally:
            os.close(fd)
    return action


@pytest.mark.root
def test_a_user_opens_only_what_they_may(world: Path) -> None:
    secret, public = world / "secret", world / "public"
    assert as_user(NOBODY, _owner_of_opened(str(public))) == 0
    assert as_user(NOBODY, _owner_of_opened(str(secret))) == \
        f"you may not read {secret}, so it cannot be mounted"
    assert as_user(NOBODY, _owner_of_opened(str(secret / "key"))) == \
        f"you may not read {secret / 'key'}, so it cannot be mounted"
    assert as_user(NOBODY, _owner_of_opened(str(public), read_only=False)) == \
        f"you may not write {public}, so it cannot be mounted writable; mount it read-only (:ro)"


@pytest.mark.root
def test_a_link_swapped_in_before_start_is_followed_with_the_users_rights(world: Path) -> None:
    """Created over a link to a readable directory; made to point at a root-only one."""
    link = world / "open" / "link"
    link.symlink_to(world / "public")
    assert as_user(NOBODY, _owner_of_opened(str(link))) == 0
    link.unlink()
    link.symlink_to(world / "secret")
    assert as_user(NOBODY, _owner_of_opened(str(link))) == \
        f"you may not read {link}, so it cannot be mounted"


@pytest.mark.root
def test_a_missing_source_is_made_by_the_user_where_they_may(world: Path) -> None:
    made = world / "open" / "new" / "sub"
    assert as_user(NOBODY, _owner_of_opened(str(made), read_only=False)) == NOBODY
    assert made.is_dir() and made.stat().st_uid == NOBODY
    refused = world / "public" / "new"
    assert as_user(NOBODY, _owner_of_opened(str(refused))) == (
        f"error while creating mount source path '{refused}': mkdir {refused}: "
        "permission denied")
    assert not refused.exists()
    assert as_user(NOBODY, _owner_of_opened(str(refused), create=False)) == \
        f"bind source path does not exist: {refused}"


# -- straight at the helper, as a user -------------------------------------------------------

def _spec(binds: list[dict[str, object]], layers: list[str] | None = None,
          args: list[str] | None = None) -> dict[str, object]:
    return {"args": args or ["true"], "env": [], "cwd": "/", "hostname": "h",
            "layers": layers or [], "restart_policy": "no", "restart_max": 0,
            "stop_signal": 15, "network_mode": "none", "ports": [], "exposed": [],
            "aliases": [], "name": "t", "binds": binds}


def _error(reply: dict[str, object]) -> str:
    assert "error" in reply, reply
    return str(reply["error"]["message"])  # type: ignore[index]


def _open(path: Path, flags: int = os.O_RDONLY) -> int:
    return os.open(path, flags | os.O_CLOEXEC)


@pytest.mark.root
@pytest.mark.usefixtures("skiff_root")
def test_the_helper_mounts_for_a_user_only_what_they_may_read_and_write(
        tmp_path: Path, world: Path, subid_user: SubidUser) -> None:
    """Descriptors root's process opened stand in for a malicious engine's."""
    peer = HelperPeer(tmp_path / "helper", subid_user.uid)
    cid = "d" * 64
    try:
        binds = [{"source": str(world / "secret"), "target": "/s", "read_only": True},
                 {"source": str(world / "public"), "target": "/p", "read_only": False}]
        reply, _ = peer.call("container_create", {"id": cid, "spec": _spec(binds)})
        assert reply.get("result") == {}, reply  # nothing is looked at before a start
        spec = json.loads((tmp_path / "helper" / "users" / str(subid_user.uid) / "containers" / cid
                           / "spec.json").read_text())
        assert [b["source"] for b in spec["binds"]] == [str(world / "secret"),
                                                        str(world / "public")]
        secret, public = _open(world / "secret", os.O_PATH), _open(world / "public")
        try:
            reply, _ = peer.call("container_start", {"id": cid}, [secret, public])
            assert _error(reply) == f"you may not read {world / 'secret'}, so it cannot be mounted"
            reply, _ = peer.call("container_start", {"id": cid, "sources": [1]}, [public])
            assert "bind source " + str(world / "secret") + " was not opened" in _error(reply)
            reply, _ = peer.call("container_start", {"id": cid}, [public, public])
            assert _error(reply) == (f"you may not write {world / 'public'}, so it cannot be "
                                     "mounted writable; mount it read-only (:ro)")
            # The Files view of a stopped container mounts from descriptors too.
            reply, _ = peer.call("container_fs", {
                "id": cid, "op": "list", "path": "/s", "follow": False, "limit": 0, "name": ".",
                "archive": False, "sources": [0]}, [secret])
            assert _error(reply) == f"you may not read {world / 'secret'}, so it cannot be mounted"
        finally:
            os.close(secret)
            os.close(public)
        reply, _ = peer.call("container_start", {"id": cid})
        assert "was not opened by the caller" in _error(reply)
        reply, _ = peer.call("container_remove", {"id": cid, "force": False})
        assert reply.get("result") == {}, reply
    finally:
        peer.close()


@pytest.mark.root
@pytest.mark.usefixtures("skiff_root")
def test_a_socket_is_reached_not_opened_and_still_checked(tmp_path: Path, world: Path,
                                                          subid_user: SubidUser) -> None:
    path = world / "open" / "root.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    # The user reaches it (O_PATH needs only the directories' search rights) ...
    assert as_user(subid_user.uid, _owner_of_opened(str(path))) == 0
    peer = HelperPeer(tmp_path / "helper", subid_user.uid)
    cid = "c" * 64
    try:
        binds = [{"source": str(path), "target": "/run/x.sock", "read_only": True}]
        reply, _ = peer.call("container_create", {"id": cid, "spec": _spec(binds)})
        assert reply.get("result") == {}, reply
        fd = _open(path, os.O_PATH)
        try:  # ... but may not connect to it, so it is not theirs to mount
            reply, _ = peer.call("container_start", {"id": cid}, [fd])
        finally:
            os.close(fd)
        assert _error(reply) == f"you may not read {path}, so it cannot be mounted"
        peer.call("container_remove", {"id": cid, "force": False})
    finally:
        peer.close()
        listener.close()


def _wait_exited(cdir: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if json.loads((cdir / "status.json").read_text()).get("status") == "exited":
                return
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, "the container never exited"
        time.sleep(0.05)


@pytest.mark.root
async def test_a_users_binds_and_volumes_are_nosuid_and_nodev(
        engine: Engine, tmp_path: Path, world: Path, subid_user: SubidUser) -> None:
    layer = (await engine.images.get("busybox")).layers[0]
    root = tmp_path / "helper"
    peer = HelperPeer(root, subid_user.uid)
    cid = "e" * 64
    try:
        fd = os.open(engine._shared.blobs.path(layer.digest), os.O_RDONLY)
        reply, _ = peer.call("unpack_layer", {"diff_id": layer.diff_id, "digest": layer.digest},
                             [fd])
        os.close(fd)
        assert "result" in reply, reply
        binds = [{"source": str(world / "public"), "target": "/p", "read_only": True},
                 {"type": "volume", "source": "vol", "target": "/v", "read_only": False}]
        script = ("cat /p/which; for m in /p /v; do grep \" $m \" /proc/self/mountinfo "
                  "| cut -d' ' -f6; done")
        spec = _spec(binds, [layer.diff_id], ["sh", "-c", script])
        reply, _ = peer.call("container_create", {"id": cid, "spec": spec})
        assert reply.get("result") == {}, reply
        public = _open(world / "public")
        try:
            reply, _ = peer.call("container_start", {"id": cid}, [public])
        finally:
            os.close(public)
        assert "result" in reply, reply
        cdir = root / "users" / str(subid_user.uid) / "containers" / cid
        _wait_exited(cdir)
        lines = [line.split(" ", 3)[3] for line in (cdir / "ctr.log").read_text().splitlines()]
        assert lines[0] == "public"
        assert [set(line.strip().split(",")) >= {"nosuid", "nodev"} for line in lines[1:]] == \
            [True, True], lines
        assert "ro" in lines[1].split(",") and "rw" in lines[2].split(",")
        reply, _ = peer.call("container_remove", {"id": cid, "force": False})
        assert reply.get("result") == {}, reply
        peer.call("volume_remove", {"name": "vol"})
    finally:
        peer.close()


# -- real containers, started by root ---------------------------------------------------

def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd) or None,
                           **options)  # type: ignore[arg-type]


async def run(engine: Engine, *cmd: str, **options: object) -> tuple[int, str]:
    container = await engine.containers.create(config(*cmd, **options))
    await engine.containers.start(container.id)
    code = await engine.containers.wait(container.id)
    return code, await output(engine, container.id)


async def output(engine: Engine, ref: str) -> str:
    return "".join([line.data.decode() + ("" if line.partial else "\n")
                    async for line in engine.containers.logs(ref)])


@pytest.mark.root
async def test_a_link_swapped_after_the_source_was_opened_changes_nothing(
        engine: Engine, world: Path) -> None:
    link = world / "open" / "link"
    link.symlink_to(world / "public")
    container = await engine.containers.create(config(
        "cat", "/x/which", mounts=[MountSpec("bind", "/x", str(link), read_only=True)]))
    fd = os.open(link, os.O_RDONLY | os.O_DIRECTORY)  # what the engine opens at start
    try:
        link.unlink()
        link.symlink_to(world / "secret")  # swapped before the helper mounts anything
        await engine._shared.helper.call("container_start", {"id": container.id, "sources": [0]},
                                         [fd])
    finally:
        os.close(fd)
    assert await engine.containers.wait(container.id) == 0
    assert await output(engine, container.id) == "public\n"


@pytest.mark.root
async def test_each_start_opens_the_source_anew(engine: Engine, world: Path) -> None:
    link = world / "open" / "link"
    (world / "secret" / "which").write_text("secret\n")
    link.symlink_to(world / "public")
    container = await engine.containers.create(config(
        "cat", "/x/which", mounts=[MountSpec("bind", "/x", str(link), read_only=True)]))
    link.unlink()
    link.symlink_to(world / "secret")  # root may read it: opened with root's rights
    await engine.containers.start(container.id)
    assert await engine.containers.wait(container.id) == 0
    assert await output(engine, container.id) == "secret\n"
    assert await engine.containers.read_file(container.id,
                                             "/x/which") == b"secret\n"  # stopped: ditto


@pytest.mark.root
async def test_read_only_is_recursive(engine: Engine) -> None:
    """-v /:/host:ro leaves nothing writable under /host: not /host/proc, /sys, /dev."""
    canary = f"skiff-canary-{os.getpid()}"
    script = (f"touch /host/tmp/{canary} /host/dev/shm/{canary} 2>&1; "
              f"mkdir /host/dev/{canary} 2>&1; "
              "grep ' /host' /proc/self/mountinfo | cut -d' ' -f5,6")
    _, out = await run(engine, "sh", "-c", script,
                       mounts=[MountSpec("bind", "/host", "/", read_only=True)])
    lines = out.splitlines()
    errors = [line for line in lines if "Read-only file system" in line]
    assert len(errors) == 3, out
    mounts = dict(line.split(" ", 1) for line in lines if line.startswith("/host"))
    for where in ("/host", "/host/proc", "/host/sys", "/host/dev"):
        assert where in mounts, out
    writable = [where for where, options in mounts.items() if "ro" not in options.split(",")]
    assert writable == [], out
    for path in (f"/tmp/{canary}", f"/dev/shm/{canary}", f"/dev/{canary}"):
        assert not os.path.exists(path)


@pytest.mark.root
async def test_a_missing_source_is_created(engine: Engine, tmp_path: Path) -> None:
    made = tmp_path / "made" / "here"
    code, out = await run(engine, "sh", "-c", "echo hi > /x/f; cat /x/f",
                          mounts=[MountSpec("bind", "/x", str(made))])
    assert (code, out) == (0, "hi\n")
    assert (made / "f").read_text() == "hi\n"


@pytest.mark.root
async def test_a_file_and_a_volume_bind(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "conf").write_text("setting\n")
    code, out = await run(engine, "sh", "-c", "cat /etc/app.conf; ls /data",
                          mounts=[MountSpec("bind", "/etc/app.conf", str(tmp_path / "conf"),
                                            read_only=True),
                                  MountSpec("volume", "/data", "binds-vol")])
    assert (code, out) == (0, "setting\n")
    for container in await engine.containers.list(all=True):
        await engine.containers.remove(container.id)
    await engine.volumes.remove("binds-vol")


@pytest.mark.root
async def test_a_refused_start_says_why_in_one_line(engine: Engine, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    container = await engine.containers.create(config(
        "true", mounts=[MountSpec("bind", "/x", str(blocker / "sub"))]))
    with pytest.raises(InvalidArgument) as info:
        await engine.containers.start(container.id)
    assert str(info.value) == f"bind source {blocker / 'sub'}: not a directory"
    assert (await engine.containers.get(container.id)).state.status.value == "created"
