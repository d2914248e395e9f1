"""Unpacked layers are counted across users: one user's rmi leaves what others need.

The counting itself (engine/helper/layerrefs.py) is tested on a store of
stand-in layer directories, without root; then real helpers serving real
throwaway users, and the root engine's ``rmi``, share a real image's layers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig
from engine.errors import InvalidArgument
from engine.helper.claims import STALE_AFTER, Claims
from engine.helper.layerrefs import LayerRefs
from tests.fixtures.users import LocalUser
from tests.peers import HelperPeer, container_spec, unpack_layers

A, B, C = ("sha256:" + c * 64 for c in "abc")
CID = "d" * 64


def _store(root: Path, *diff_ids: str) -> LayerRefs:
    for diff_id in diff_ids:
        (root / "layers" / "sha256" / diff_id[7:] / "etc").mkdir(parents=True)
    return LayerRefs(root)


def _present(root: Path, diff_id: str) -> bool:
    return (root / "layers" / "sha256" / diff_id[7:]).is_dir()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_a_layer_goes_with_its_last_user(tmp_path: Path) -> None:
    refs = _store(tmp_path, A)
    copy = tmp_path / "shifted" / "map" / A[7:]  # a user namespace's copy of it
    copy.mkdir(parents=True)
    assert refs.claim(A, 1000) and refs.claim(A, 1001)
    assert not refs.claim(B, 1000)  # not unpacked: nothing recorded, the engine unpacks it
    refs.release(A, 1000)
    assert _present(tmp_path, A)
    refs.release(A, 1000)  # twice changes nothing
    assert _present(tmp_path, A)
    assert copy.is_dir()
    refs.release(A, 1001)
    assert not _present(tmp_path, A) and not copy.exists()
    assert os.listdir(tmp_path / "layers" / "tmp") == []  # its files went too


def test_a_layer_goes_with_its_last_container(tmp_path: Path) -> None:
    refs = _store(tmp_path, A, B)
    claims = Claims(tmp_path)
    refs.claim(A, 1000)
    assert claims.claim(CID, 1001)
    refs.use(CID, [A, B])
    refs.release(A, 1000)
    assert _present(tmp_path, A) and _present(tmp_path, B)
    refs.unuse(CID, [A, B])
    assert not _present(tmp_path, A) and not _present(tmp_path, B)


def test_a_container_reference_counts_while_its_id_is_claimed(tmp_path: Path) -> None:
    """A crash between a container's removal and its references' leaves them behind;
    they stop counting with the claim (repair drops the claim, then them)."""
    refs = _store(tmp_path, A)
    claims = Claims(tmp_path)
    claims.claim(CID, 1001)
    refs.use(CID, [A])
    refs.hold(A, 1000)
    refs.release(A, 1000)
    assert _present(tmp_path, A)
    claims.release(CID, 1001)  # the container went; its reference did not
    refs.hold(A, 1000)
    refs.release(A, 1000)
    assert not _present(tmp_path, A)


def test_a_container_needs_its_layers_unpacked(tmp_path: Path) -> None:
    refs = _store(tmp_path, A)
    with pytest.raises(InvalidArgument, match=f"layer {B} is not unpacked"):
        refs.use(CID, [A, B])
    refs.hold(A, 1000)
    refs.release(A, 1000)
    assert not _present(tmp_path, A)  # the failed use recorded nothing


def test_sync_makes_a_users_references_those_of_their_images(tmp_path: Path) -> None:
    refs = _store(tmp_path, A, B, C)
    refs.claim(A, 1000)
    refs.claim(B, 1000)
    refs.claim(C, 1001)
    refs.sync(1000, [B, C])  # A: too young to drop (a pull may be under way)
    assert _present(tmp_path, A)
    _age(tmp_path / "layers" / "refs" / A[7:] / "u1000", STALE_AFTER + 1)
    refs.sync(1000, [B, C])
    assert not _present(tmp_path, A)
    assert (tmp_path / "layers" / "refs" / C[7:] / "u1000").exists()  # C gained a reference
    refs.release(C, 1001)
    assert _present(tmp_path, C)
    refs.release(C, 1000)
    assert not _present(tmp_path, C)


def test_adopt_counts_the_containers_of_before(tmp_path: Path) -> None:
    refs = _store(tmp_path, A, B)
    old = tmp_path / "users" / "1001" / "containers" / CID
    old.mkdir(parents=True)
    (old / "spec.json").write_text(f'{{"layers": ["{A}"]}}')
    refs.adopt()
    refs.adopt()  # once is enough: a marker says it was done
    assert Claims(tmp_path).owner(CID) == 1001
    refs.release(A, 1000)
    refs.release(B, 1000)
    assert _present(tmp_path, A) and not _present(tmp_path, B)


@pytest.mark.root
async def test_one_users_rmi_keeps_what_another_users_container_uses(
        engine: Engine, busybox_multilayer_docker_archive: Path, make_user: Any) -> None:
    alice: LocalUser = make_user()
    bob: LocalUser = make_user()
    [image] = await engine.images.load(busybox_multilayer_docker_archive)
    layers = [(la.diff_id, la.digest, engine._shared.blobs.path(la.digest)) for la in image.layers]
    diff_ids = [d for d, _, _ in layers]
    own = diff_ids[1:]  # busybox-multi's own layers; the first is busybox's
    root = engine.system.helper_root
    store = root / "layers" / "sha256"
    hers, his = HelperPeer(root, alice.uid), HelperPeer(root, bob.uid)
    cid = "e5" * 32
    try:
        unpack_layers(hers, layers)
        unpack_layers(his, layers)
        hers.ok("container_create", {"id": cid, "spec": container_spec(diff_ids, ["true"])})
        for diff_id in own:
            his.ok("remove_layer", {"diff_id": diff_id})
        assert await engine.images.remove("busybox-multi") == [
            ("Untagged", "busybox-multi:latest"), ("Deleted", image.id)]
        assert all((store / d[7:]).is_dir() for d in diff_ids)
        for diff_id in own:  # Alice's images no longer need them; her container does
            hers.ok("remove_layer", {"diff_id": diff_id})
        assert all((store / d[7:]).is_dir() for d in diff_ids)
        hers.ok("container_remove", {"id": cid, "force": False})
        assert not any((store / d[7:]).exists() for d in own)
        assert (store / diff_ids[0][7:]).is_dir()  # root's busybox still has it
        # Nothing of root's broke: its busybox containers still get their layers.
        await engine.containers.create(ContainerConfig(image="busybox", image_id="", cmd=["true"],
                                            network="none"))
    finally:
        hers.call("container_remove", {"id": cid, "force": True})
        hers.close()
        his.close()
