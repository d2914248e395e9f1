"""A user's container state is theirs alone: real helpers serving real throwaway users.

Alice's container (with a secret in its environment) runs through a helper
that serves Alice; Bob, another local user, tries to read its files and to act
on it by ID through a helper that serves him. The kernel's own checks decide
what each may read, in a helper root every user can traverse, as
/var/lib/skiff/helper is.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.errors import KernelFeatureMissing
from engine.helper.privacy import private_dir, private_file
from engine.inotify import IN_CLOSE_WRITE, Inotify
from tests.fixtures.users import LocalUser
from tests.peers import HelperPeer, as_user, container_spec, unpack_layers, wait_exited

pytestmark = pytest.mark.root


@pytest.fixture
def world() -> Iterator[Path]:
    """A helper root's parent that every user may traverse (pytest's tmp dirs are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="skiff-test-private-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _layers(engine: Engine) -> list[tuple[str, str, Path]]:
    image = await engine.images.get("busybox")
    return [(la.diff_id, la.digest, engine._shared.blobs.path(la.digest)) for la in image.layers]


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _write(path: Path) -> None:
    with open(path, "r+b") as f:
        f.write(b"{}")


def _replace(directory: Path, name: str) -> None:
    (directory / ".forged").write_text('{"status": "running", "pid": 1}')
    os.replace(directory / ".forged", directory / name)


def can_watch(path: Path) -> bool:
    """What the engine's event stream does with the ``changes`` file."""
    with Inotify() as inotify:
        inotify.add(path, IN_CLOSE_WRITE)
    return True


def _listdir(path: Path) -> list[str]:
    return sorted(os.listdir(path))


def _errno(outcome: tuple[str, Any]) -> int:
    assert outcome[0] == "errno", f"expected a refusal, got {outcome}"
    return int(outcome[1])


async def test_only_the_owner_reads_a_containers_state(
        engine: Engine, world: Path, make_user: Any) -> None:
    alice: LocalUser = make_user()
    bob: LocalUser = make_user()
    root = world / "helper"
    peer = HelperPeer(root, alice.uid)
    cid = "a1" * 32
    try:
        layers = await _layers(engine)
        unpack_layers(peer, layers)
        peer.ok("container_create", {"id": cid, "spec": container_spec(
            [d for d, _, _ in layers], ["sh", "-c", "echo the-log-line"],
            env=["SECRET=hunter2"])})
        peer.ok("container_start", {"id": cid, "attach": False})
        user_dir = root / "users" / str(alice.uid)
        cdir = user_dir / "containers" / cid
        wait_exited(cdir / "status.json")
        files = [cdir / "spec.json", cdir / "status.json", cdir / "ctr.log", user_dir / "changes"]

        # Alice's engine reads its own state directly, and may watch for changes.
        def read_as_alice(path: Path) -> bytes:
            outcome = as_user(alice.uid, alice.gid, _read, path)
            assert outcome[0] == "ok", (path, outcome)
            return bytes(outcome[1])

        assert b"hunter2" in read_as_alice(cdir / "spec.json")
        assert json.loads(read_as_alice(cdir / "status.json"))["status"] == "exited"
        assert b"the-log-line" in read_as_alice(cdir / "ctr.log")
        read_as_alice(user_dir / "changes")
        assert as_user(alice.uid, alice.gid, can_watch, user_dir / "changes") == ("ok", True)
        assert "spec.json" in as_user(alice.uid, alice.gid, _listdir, cdir)[1]
        # ... but can neither change nor replace what the helper trusts.
        before = (cdir / "status.json").read_bytes()
        assert _errno(as_user(alice.uid, alice.gid, _write, cdir / "status.json")) == \
            errno.EACCES
        assert _errno(as_user(alice.uid, alice.gid, _replace, cdir, "status.json")) == \
            errno.EACCES
        assert _errno(as_user(alice.uid, alice.gid, _replace, cdir / "fs", "x")) == \
            errno.EACCES  # the container's files (set-uid ones too) are root's alone
        assert (cdir / "status.json").read_bytes() == before

        # Bob reaches the helper's root, and nothing of Alice's below it.
        assert as_user(bob.uid, bob.gid, os.stat, root / "users")[0] == "ok"
        for path in (*files, cdir, cdir / "hosts"):
            assert _errno(as_user(bob.uid, bob.gid, _read, path)) == errno.EACCES, path
        for path in (user_dir, user_dir / "containers", cdir):
            assert _errno(as_user(bob.uid, bob.gid, _listdir, path)) == errno.EACCES, path
        assert _errno(as_user(bob.uid, bob.gid, os.stat, cdir)) == errno.EACCES
        # Not by modes alone: the files give "other" nothing either.
        for path in files:
            assert path.stat().st_mode & 0o007 == 0, path
    finally:
        peer.call("container_remove", {"id": cid, "force": True})
        peer.close()


async def test_another_users_container_is_no_such_container(
        engine: Engine, world: Path, make_user: Any) -> None:
    alice: LocalUser = make_user()
    bob: LocalUser = make_user()
    root = world / "helper"
    owner, other = HelperPeer(root, alice.uid), HelperPeer(root, bob.uid)
    cid = "b2" * 32
    try:
        layers = await _layers(engine)
        unpack_layers(owner, layers)
        owner.ok("container_create", {"id": cid, "spec": container_spec(
            [d for d, _, _ in layers], ["sleep", "1000"])})
        started = owner.ok("container_start", {"id": cid, "attach": False})
        status_file = root / "users" / str(alice.uid) / "containers" / cid / "status.json"
        before = status_file.read_bytes()
        missing = f"No such container: {cid}"
        for verb, args in [
            ("container_start", {"id": cid, "attach": False}),
            ("container_attach", {"id": cid}),
            ("container_signal", {"id": cid, "signal": 9}),
            ("container_stop", {"id": cid, "signal": 9, "timeout": 0}),
            ("container_pause", {"id": cid}),
            ("container_unpause", {"id": cid}),
            ("container_remove", {"id": cid, "force": True}),
            ("container_changes", {"id": cid}),
            ("container_exec", {"id": cid, "args": ["id"], "env": [], "user": "", "cwd": "",
                                "tty": False, "rows": 0, "cols": 0}),
            ("container_fs", {"id": cid, "op": "stat", "path": "/", "follow": False,
                              "limit": 0, "name": ".", "archive": False}),
            ("container_namespaces", {"id": cid}),
            ("network_connect", {"id": cid, "network": "bridge"}),
            ("network_disconnect", {"id": cid, "network": "bridge"}),
        ]:
            assert other.error(verb, args) == missing, verb
        # Her ID is hers: Bob's own container under it would share her cgroup.
        message = other.error("container_create", {"id": cid, "spec": container_spec(
            [d for d, _, _ in layers], ["true"])})
        assert "is taken" in message
        assert other.ok("repair", {"ids": []}) == {"removed": []}
        assert status_file.read_bytes() == before
        assert Path(f"/proc/{started['pid']}").exists()  # still running, untouched
        assert not (root / "users" / str(bob.uid) / "containers" / cid).exists()
    finally:
        owner.call("container_remove", {"id": cid, "force": True})
        owner.close()
        other.close()


async def test_a_pid_that_is_no_longer_the_containers_is_not_signalled(
        engine: Engine, world: Path, make_user: Any) -> None:
    alice: LocalUser = make_user()
    root = world / "helper"
    peer = HelperPeer(root, alice.uid)
    cid = "c3" * 32
    bystander = subprocess.Popen(["sleep", "1000"])
    try:
        layers = await _layers(engine)
        unpack_layers(peer, layers)
        peer.ok("container_create", {"id": cid, "spec": container_spec(
            [d for d, _, _ in layers], ["sleep", "1000"])})
        peer.ok("container_start", {"id": cid, "attach": False})
        status_file = root / "users" / str(alice.uid) / "containers" / cid / "status.json"
        real = status_file.read_text()
        # As if the container's process had ended and its pid gone to another process.
        stale = json.loads(real)
        stale["pid"] = bystander.pid
        status_file.write_text(json.dumps(stale))
        peer.ok("container_signal", {"id": cid, "signal": signal.SIGKILL})
        assert bystander.poll() is None, "the helper killed a process not in the container"
        assert peer.error("container_exec", {
            "id": cid, "args": ["id"], "env": [], "user": "", "cwd": "", "tty": False,
            "rows": 0, "cols": 0}) == f"Container {cid} is not running"
        status_file.write_text(real)
        peer.ok("container_stop", {"id": cid, "signal": signal.SIGKILL, "timeout": 5})
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
        peer.call("container_remove", {"id": cid, "force": True})
        peer.close()


def test_without_acls_state_stays_roots_and_says_why(tmp_path: Path) -> None:
    """ramfs has no xattrs at all: nothing can be shared, so nothing is."""
    mount = tmp_path / "ramfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "ramfs", "ramfs", str(mount)], check=True)
    try:
        directory = mount / "c"
        directory.mkdir(mode=0o755)
        (directory / "spec.json").write_text("{}")
        with pytest.raises(KernelFeatureMissing, match="has no POSIX ACLs"):
            private_dir(directory, 12345, inherit=True)
        assert directory.stat().st_mode & 0o777 == 0o700
        with pytest.raises(KernelFeatureMissing, match="mount it with the 'acl' option"):
            private_file(directory / "spec.json", 12345)
        assert (directory / "spec.json").stat().st_mode & 0o777 == 0o640
        private_dir(directory, 0)  # root's own state needs no ACL
    finally:
        subprocess.run(["umount", str(mount)], check=True)
