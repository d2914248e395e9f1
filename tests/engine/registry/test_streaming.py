"""Pulls that unpack each layer while it downloads (the ``stream`` callback)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.errors import DigestMismatch
from engine.images.reference import Reference
from engine.registry.model import PullProgress
from tests.fixtures.images import read_oci_image
from tests.fixtures.registry import LocalRegistry, ServiceKit, sha256_file

Kit = Callable[..., ServiceKit]
REPO = "stream/big"
HALF = 4 << 20


class StreamReader:
    """A stream unpacker that reads the blob to its end and checks its digest.

    ``first_bytes`` is set once any byte of the layer ``watch`` came through."""

    def __init__(self, watch: str = "") -> None:
        self.watch = watch
        self.first_bytes = threading.Event()
        self.verified: list[str] = []
        self.refused: list[str] = []

    async def __call__(self, layer: Any, fd: int) -> None:
        await asyncio.to_thread(self._read, layer.digest, fd)

    def _read(self, digest: str, fd: int) -> None:
        hasher = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            if digest == self.watch:
                self.first_bytes.set()
            hasher.update(chunk)
        if "sha256:" + hasher.hexdigest() != digest:
            self.refused.append(digest)
            raise DigestMismatch(f"layer blob {digest} does not match its digest")
        self.verified.append(digest)


def _pull(kit: ServiceKit, ref: str, stream: StreamReader,
          progress: Callable[[PullProgress], None] | None = None) -> Any:
    return asyncio.run(kit.service.pull(Reference.parse(ref), progress=progress,
                                        unpack=kit.unpack, stream=stream))


def test_every_layer_comes_through_the_stream(plain_registry: LocalRegistry,
                                              registry_service: Kit) -> None:
    kit = registry_service()
    stream = StreamReader()
    image = _pull(kit, f"{plain_registry.host}/test/multilayer", stream)
    assert sorted(stream.verified) == sorted(layer.digest for layer in image.layers)
    assert kit.unpack.calls == []  # nothing had to be unpacked from the stored blobs
    for layer in image.layers:
        assert sha256_file(kit.blobs.path(layer.digest)) == layer.digest


def test_the_unpacker_reads_a_layer_before_its_download_ends(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    big = max(read_oci_image(big_oci).layers, key=lambda la: la["size"])["digest"]
    kit = registry_service()
    stream = StreamReader(watch=big)
    seen_midway: list[bool] = []

    def progress(event: PullProgress) -> None:
        if event.layer == big and event.status == "downloading" and event.current >= HALF \
                and not seen_midway:
            # The download holds still here (this runs in its event loop): the bytes
            # already on disk must reach the unpacker all the same.
            seen_midway.append(stream.first_bytes.wait(timeout=60))
            assert not kit.blobs.has(big)

    image = _pull(kit, f"{fresh_registry.host}/{REPO}", stream, progress)
    assert seen_midway == [True]
    assert big in stream.verified
    assert image.id == read_oci_image(big_oci).image_id


def test_a_download_that_starts_again_is_unpacked_from_the_stored_blob(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit) -> None:
    fresh_registry.push(big_oci, "latest", REPO)
    big = max(read_oci_image(big_oci).layers, key=lambda la: la["size"])["digest"]
    kit = registry_service()
    # A partial file whose bytes are not the blob's: the download resumes after them,
    # fails the digest check and starts again from zero; the stream had the bad bytes.
    partial = kit.partial_path(big)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"\0" * HALF)
    stream = StreamReader()
    image = _pull(kit, f"{fresh_registry.host}/{REPO}", stream)
    assert image.id == read_oci_image(big_oci).image_id
    assert stream.refused == [big]
    assert kit.unpack.calls == [big]  # unpacked again, from the verified blob
    assert sha256_file(kit.blobs.path(big)) == big


def test_a_blob_arrives_in_reads_larger_than_httpcores_own(
        fresh_registry: LocalRegistry, big_oci: Path, registry_service: Kit,
        monkeypatch: Any) -> None:
    """httpcore reads 64 KiB at a time unless told otherwise (engine/registry/download.py
    tells it 1 MiB): with a registry on the loopback, some read gets more."""
    from engine.images.blobs import PartialBlob

    fresh_registry.push(big_oci, "latest", REPO)
    sizes: list[int] = []
    write = PartialBlob.write

    def recording(self: PartialBlob, chunk: bytes) -> None:
        sizes.append(len(chunk))
        write(self, chunk)

    monkeypatch.setattr(PartialBlob, "write", recording)
    _pull(registry_service(), f"{fresh_registry.host}/{REPO}", StreamReader())
    assert sum(sizes) > HALF
    assert max(sizes) > 64 << 10
