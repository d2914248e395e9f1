"""Pulls that go wrong: the registry dies midway, sends wrong or short content,
the puller is interrupted or killed. Nothing wrong is stored, and the next pull
resumes with a Range request."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import DigestMismatch, RegistryError
from engine.images.reference import Reference
from engine.registry.model import PullProgress
from tests.fixtures.images import read_oci_image
from tests.fixtures.registry import LocalRegistry, ServiceKit, sha256_file

Kit = Callable[..., ServiceKit]
REPO = "faults/big"
HALF = 4 << 20


def _big_layer(big_oci: Path) -> tuple[str, int]:
    layer = max(read_oci_image(big_oci).layers, key=lambda la: la["size"])
    return layer["digest"], layer["size"]


def _ranged_gets(registry: LocalRegistry, digest: str) -> list[str]:
    """Access-log lines of blob GETs answered 206 Partial Content."""
    return [line for line in registry.log().splitlines()
            if f'"GET /v2/{REPO}/blobs/{digest} ' in line and '" 206 ' in line]


def _resume_and_check(registry: LocalRegistry, kit: ServiceKit, big_oci: Path,
                      offset: int) -> None:
    digest, size = _big_layer(big_oci)
    events: list[PullProgress] = []
    image = asyncio.run(kit.service.pull(Reference.parse(f"{registry.host}/{REPO}"),
                                         progress=events.append, unpack=kit.unpack))
    assert image.id == read_oci_image(big_oci).image_id
    first = next(e for e in events if e.layer == digest and e.status == "downloading")
    assert first.current == offset  # the download started where the last one stopped
    assert _ranged_gets(registry, digest), "no Range request reached the registry"
    assert sha256_file(kit.blobs.path(digest)) == digest
    assert kit.blobs.size(digest) == size
    assert not kit.partial_path(digest).exists()


def test_registry_stopped_mid_pull_then_restarted_resumes(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    digest, size = _big_layer(big_oci)
    kit = registry_service()

    def progress(event: PullProgress) -> None:
        if event.layer == digest and event.status == "downloading" and event.current >= HALF:
            fresh_registry.kill()

    with pytest.raises(RegistryError) as caught:
        asyncio.run(kit.service.pull(Reference.parse(f"{fresh_registry.host}/{REPO}"),
                                     progress=progress, unpack=kit.unpack))
    assert re.search(f"(broke|stopped|cannot reach).*{fresh_registry.host}|"
                     f"{fresh_registry.host}.*(broke|stopped)", str(caught.value))
    assert kit.images.list() == []
    assert not kit.blobs.has(digest)
    offset = kit.partial_path(digest).stat().st_size
    assert HALF <= offset < size

    fresh_registry.start()
    # A new service over the same stores: the engine of the next `skiff pull`.
    _resume_and_check(fresh_registry, registry_service(root=kit.root), big_oci, offset)


def test_interrupted_pull_keeps_its_bytes_and_resumes(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    digest, size = _big_layer(big_oci)
    kit = registry_service()

    async def interrupted() -> None:
        main = asyncio.current_task()
        assert main is not None

        def progress(event: PullProgress) -> None:
            if event.layer == digest and event.status == "downloading" \
                    and event.current >= HALF:
                main.cancel()  # what Ctrl-C does to `asyncio.run`

        await kit.service.pull(Reference.parse(f"{fresh_registry.host}/{REPO}"),
                               progress=progress, unpack=kit.unpack)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(interrupted())
    offset = kit.partial_path(digest).stat().st_size
    assert HALF <= offset < size
    assert kit.images.list() == []
    _resume_and_check(fresh_registry, kit, big_oci, offset)


_CHILD = textwrap.dedent("""
    import asyncio, sys, time
    from pathlib import Path
    from engine.db import Database
    from engine.images.blobs import BlobStore
    from engine.images.reference import Reference
    from engine.images.store import ImageStore
    from engine.registry.credentials import CredentialStore
    from engine.registry.service import RegistryClient

    root, ref, digest, half = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    blobs = BlobStore(root)
    service = RegistryClient(blobs, ImageStore(Database(root / "skiff.db"), blobs),
                              CredentialStore(root / "auth.json", fallbacks=[]))

    def progress(event):
        if event.layer == digest and event.status == "downloading" and event.current >= half:
            print("HALF", flush=True)
            time.sleep(600)  # hold still until killed

    async def unpack(layer):
        pass

    asyncio.run(service.pull(Reference.parse(ref), progress=progress, unpack=unpack))
    print("FINISHED", flush=True)
""")


def test_killed_puller_leaves_a_state_the_next_pull_resumes(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit,
        tmp_path: Path) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    digest, size = _big_layer(big_oci)
    root = tmp_path / "killed-engine"
    repo_root = Path(__file__).resolve().parents[3]
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root), f"{fresh_registry.host}/{REPO}", digest,
         str(HALF)], stdout=subprocess.PIPE, text=True, cwd=repo_root,
        env={**os.environ, "PYTHONPATH": str(repo_root)})
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "HALF"
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    offset = (root / "blobs" / "partial" / digest.removeprefix("sha256:")).stat().st_size
    assert HALF <= offset < size
    _resume_and_check(fresh_registry, registry_service(root=root), big_oci, offset)


def _corrupt(path: Path) -> None:
    """Flip bytes in the middle of a registry blob file, keeping its size."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(b ^ 0xFF for b in data[middle:middle + 16])
    os.chmod(path, 0o644)
    path.write_bytes(bytes(data))


def test_blob_with_wrong_content_is_refused_and_nothing_stored(
        fresh_registry: LocalRegistry, busybox_multilayer_oci: Path,
        registry_service: Kit) -> None:
    fresh_registry.push(busybox_multilayer_oci, "latest", "faults/multi")
    layers = read_oci_image(busybox_multilayer_oci).layers
    bad = max(layers, key=lambda la: la["size"])["digest"]
    _corrupt(fresh_registry.blob_path(bad))
    kit = registry_service()
    with pytest.raises(DigestMismatch) as caught:
        asyncio.run(kit.service.pull(Reference.parse(f"{fresh_registry.host}/faults/multi"),
                                     unpack=kit.unpack))
    assert str(caught.value) == (
        f"layer {bad} from {fresh_registry.host}/faults/multi did not match its digest: "
        "the registry sent wrong content, nothing was stored")
    assert not kit.blobs.has(bad)
    assert not kit.partial_path(bad).exists()
    assert bad not in kit.unpack.calls
    assert kit.images.list() == []
    # Whatever else was stored is exactly what its name says.
    for digest in kit.digests():
        assert sha256_file(kit.blobs.path(digest)) == digest


def test_oversized_blob_is_refused(fresh_registry: LocalRegistry, busybox_oci: Path,
                                   registry_service: Kit) -> None:
    fresh_registry.push(busybox_oci, "latest", "faults/long")
    layer = read_oci_image(busybox_oci).layers[0]["digest"]
    path = fresh_registry.blob_path(layer)
    os.chmod(path, 0o644)
    with path.open("ab") as out:
        out.write(b"trailing garbage")
    kit = registry_service()
    with pytest.raises(DigestMismatch, match=f"layer {layer} .* did not match its digest"):
        asyncio.run(kit.service.pull(Reference.parse(f"{fresh_registry.host}/faults/long"),
                                     unpack=kit.unpack))
    assert not kit.blobs.has(layer)
    assert not kit.partial_path(layer).exists()
    assert kit.images.list() == []


def test_short_blob_fails_then_resumes_once_the_registry_is_fixed(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    digest, size = _big_layer(big_oci)
    path = fresh_registry.blob_path(digest)
    whole = path.read_bytes()
    os.chmod(path, 0o644)
    path.write_bytes(whole[:HALF])
    kit = registry_service()
    with pytest.raises(RegistryError) as caught:
        asyncio.run(kit.service.pull(Reference.parse(f"{fresh_registry.host}/{REPO}"),
                                     unpack=kit.unpack))
    assert str(caught.value) == (
        f"the download of {digest} from {fresh_registry.host} stopped after {HALF} of "
        f"{size} bytes; try again to resume")
    assert not kit.blobs.has(digest)
    assert kit.images.list() == []
    path.write_bytes(whole)
    _resume_and_check(fresh_registry, kit, big_oci, HALF)


def test_registry_down_is_a_plain_sentence(fresh_registry: LocalRegistry,
                                           registry_service: Kit) -> None:
    fresh_registry.stop()
    kit = registry_service()
    with pytest.raises(RegistryError) as caught:
        asyncio.run(kit.service.pull(Reference.parse(f"{fresh_registry.host}/x/y"),
                                     unpack=kit.unpack))
    assert str(caught.value) == (f"cannot reach {fresh_registry.host} while checking its API "
                                 "(/v2/): connection refused (is the registry running?)")


def test_corrupt_partial_file_is_downloaded_again_from_the_start(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    digest, _ = _big_layer(big_oci)
    kit = registry_service()
    # What a machine crash can leave: a partial file whose tail is not the blob's.
    partial = kit.partial_path(digest)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"\0" * HALF)
    events: list[PullProgress] = []
    image = asyncio.run(kit.service.pull(Reference.parse(f"{fresh_registry.host}/{REPO}"),
                                         progress=events.append, unpack=kit.unpack))
    assert image.id == read_oci_image(big_oci).image_id
    starts = [e.current for e in events if e.layer == digest and e.status == "downloading"
              and e.current in (0, HALF)]
    assert starts[0] == HALF and 0 in starts  # resumed, failed the check, started over
    assert sha256_file(kit.blobs.path(digest)) == digest
    assert not partial.exists()


def test_two_pulls_of_one_image_at_once_share_the_downloads(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    digest, _ = _big_layer(big_oci)
    kit = registry_service()
    ref = Reference.parse(f"{fresh_registry.host}/{REPO}")

    async def both() -> list[str]:
        images = await asyncio.gather(kit.service.pull(ref, unpack=kit.unpack),
                                      kit.service.pull(ref, unpack=kit.unpack))
        return [image.id for image in images]

    assert asyncio.run(both()) == [read_oci_image(big_oci).image_id] * 2
    assert sha256_file(kit.blobs.path(digest)) == digest
    full_gets = [line for line in fresh_registry.log().splitlines()
                 if f'"GET /v2/{REPO}/blobs/{digest} ' in line]
    assert len(full_gets) == 1  # the second pull waited for the first one's download


def test_manifest_that_does_not_match_the_digest_asked_for(
        fresh_registry: LocalRegistry, busybox_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(busybox_oci, "latest", "faults/manifest")
    expected = read_oci_image(busybox_oci)
    path = fresh_registry.blob_path(expected.manifest_digest)
    data = path.read_bytes()
    # Still a valid manifest, one size digit changed: the registry serves it as is.
    changed = re.sub(rb'"size":(\d)', lambda m: b'"size":%d' % ((int(m.group(1)) + 1) % 10),
                     data, count=1)
    assert changed != data and len(changed) == len(data)
    os.chmod(path, 0o644)
    path.write_bytes(changed)
    kit = registry_service()
    ref = f"{fresh_registry.host}/faults/manifest@{expected.manifest_digest}"
    with pytest.raises(DigestMismatch) as caught:
        asyncio.run(kit.service.pull(Reference.parse(ref), unpack=kit.unpack))
    got = "sha256:" + hashlib.sha256(changed).hexdigest()
    assert str(caught.value) == (
        f"{fresh_registry.host} sent a manifest for {ref} whose digest is {got}, not "
        f"{expected.manifest_digest}; nothing was stored")
    assert kit.images.list() == []
    assert kit.digests() == set()
