"""Named volumes' host directories: reached by their owner alone, never set-uid on the host.

Real helpers serve real throwaway users; a container's root and the copy of an
image's set-uid file into a volume both try to leave a set-uid root program
where its owner can run it on the host. Running it must not give euid 0.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from tests.fixtures.users import LocalUser
from tests.peers import HelperPeer, as_user, container_spec, unpack_layers, wait_exited

pytestmark = pytest.mark.root

ID_PROGRAM = shutil.which("id") or "/usr/bin/id"


@pytest.fixture
def world() -> Iterator[Path]:
    """A helper root's parent that every user may traverse (pytest's tmp dirs are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="skiff-test-volumes-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _listdir(path: Path) -> list[str]:
    return sorted(os.listdir(path))


def _euid_of_running(program: Path, user: LocalUser) -> str:
    """What ``program`` (an ``id``) says when ``user`` runs it on the host."""
    result = subprocess.run([str(program)], user=user.uid, group=user.gid, extra_groups=[],
                            capture_output=True, text=True)
    return result.stdout + result.stderr


def _mountpoint(peer: HelperPeer, name: str) -> Path:
    return Path(peer.ok("volume_create", {"name": name})["mountpoint"])


def test_only_the_owner_reaches_a_volume(world: Path, make_user: Any) -> None:
    alice: LocalUser = make_user()
    bob: LocalUser = make_user()
    root = world / "helper"
    hers, roots = HelperPeer(root, alice.uid), HelperPeer(root, 0)
    try:
        mine = _mountpoint(hers, "notes")
        theirs = _mountpoint(roots, "notes")
        assert as_user(alice.uid, alice.gid, _listdir, mine) == ("ok", [])
        for user, path in ((bob, mine), (bob, theirs), (alice, theirs)):
            assert as_user(user.uid, user.gid, _listdir, path) == ("errno", errno.EACCES)
            assert as_user(user.uid, user.gid, os.stat, path) == ("errno", errno.EACCES)
        assert as_user(bob.uid, bob.gid, _listdir, mine.parents[1]) == ("errno", errno.EACCES)
        # The data itself is reachable through the mountpoint only.
        store = mine.parent / ".store" / "data"
        assert as_user(alice.uid, alice.gid, os.stat, store) == ("errno", errno.EACCES)
    finally:
        hers.ok("volume_remove", {"name": "notes"})
        roots.ok("volume_remove", {"name": "notes"})
        hers.close()
        roots.close()
    assert not (root / "users" / str(alice.uid) / "volumes" / "notes").exists()


def test_a_set_uid_file_in_a_volume_runs_without_privilege_on_the_host(
        world: Path, make_user: Any) -> None:
    alice: LocalUser = make_user()
    peer = HelperPeer(world / "helper", alice.uid)
    try:
        mountpoint = _mountpoint(peer, "tools")
        planted = mountpoint / "id"  # as root in a container, or a copy-up, could leave it
        shutil.copy(ID_PROGRAM, planted)
        os.chown(planted, 0, 0)
        os.chmod(planted, 0o4755)
        assert stat.S_IMODE(planted.stat().st_mode) == 0o4755
        assert "euid=0" not in _euid_of_running(planted, alice)
        # The control: the same file where set-uid is honoured does make root.
        control = world / "id"
        shutil.copy2(planted, control)
        os.chmod(control, 0o4755)
        try:
            assert "euid=0" in _euid_of_running(control, alice)
        finally:
            control.unlink()
        # After a reboot the nosuid view is gone until the helper mounts it again:
        # meanwhile the mountpoint is an empty directory only root may enter.
        subprocess.run(["umount", str(mountpoint)], check=True)
        assert as_user(alice.uid, alice.gid, _listdir, mountpoint) == ("errno", errno.EACCES)
        peer.ok("repair", {"ids": []})
        assert as_user(alice.uid, alice.gid, _listdir, mountpoint) == ("ok", ["id"])
        assert "euid=0" not in _euid_of_running(planted, alice)
    finally:
        peer.ok("volume_remove", {"name": "tools"})
        peer.close()


def _layer_with(path: str, content: bytes, mode: int) -> bytes:
    """A layer tar holding one root-owned file."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        directory = tarfile.TarInfo(path.rsplit("/", 1)[0])
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(directory)
        info = tarfile.TarInfo(path)
        info.size, info.mode, info.uid, info.gid = len(content), mode, 0, 0
        tar.addfile(info, io.BytesIO(content))
    return data.getvalue()


async def test_containers_cannot_leave_set_uid_root_programs_in_a_volume(
        engine: Engine, world: Path, make_user: Any) -> None:
    """Container root chmods a file in the volume; an image's set-uid file is copied in."""
    import hashlib

    alice: LocalUser = make_user()
    peer = HelperPeer(world / "helper", alice.uid)
    cid = "f6" * 32
    program = Path(ID_PROGRAM).read_bytes()
    layer = _layer_with("opt/bin/id-from-image", program, 0o4755)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    try:
        image = await engine.images.get("busybox")
        unpack_layers(peer, [(la.diff_id, la.digest, engine._shared.blobs.path(la.digest))
                             for la in image.layers])
        r, w = os.pipe()
        os.write(w, layer)  # small enough for the pipe's buffer
        os.close(w)
        peer.ok("unpack_layer", {"diff_id": diff_id}, [r])
        os.close(r)
        tools, fresh = _mountpoint(peer, "tools"), _mountpoint(peer, "fresh")
        shutil.copy(ID_PROGRAM, tools / "id")  # Alice's own program, in her volume
        os.chown(tools / "id", alice.uid, alice.gid)
        peer.ok("container_create", {"id": cid, "spec": container_spec(
            [*(la.diff_id for la in image.layers), diff_id],
            ["sh", "-c", "chown 0:0 /tools/id; chmod 4755 /tools/id; ls -ln /tools /opt/bin"],
            binds=[{"type": "volume", "source": "tools", "target": "/tools",
                    "read_only": False},
                   {"type": "volume", "source": "fresh", "target": "/opt/bin",
                    "read_only": False}])})
        peer.ok("container_start", {"id": cid, "attach": False})
        cdir = world / "helper" / "users" / str(alice.uid) / "containers" / cid
        wait_exited(cdir / "status.json")
        log = (cdir / "ctr.log").read_text()
        assert "id-from-image" in log, log  # the empty volume was filled from the image
        for program in (tools / "id", fresh / "id-from-image"):
            assert "euid=0" not in _euid_of_running(program, alice), program
    finally:
        peer.call("container_remove", {"id": cid, "force": True})
        for name in ("tools", "fresh"):
            peer.call("volume_remove", {"name": name})
        peer.ok("remove_layer", {"diff_id": diff_id})
        peer.close()
