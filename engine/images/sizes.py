"""An image's size: its layers uncompressed, whatever way the image arrived.

A registry sends layers gzip- or zstd-compressed, ``docker save`` archives
hold plain tars, OCI archives either: summing the blobs' sizes showed one image
ID with two sizes. An image's size is the sum of its layers' uncompressed tar
sizes instead (what docker's SIZE measures too: the layers' content, not their
transport). A layer's size is measured once, by reading its blob through the
decompressor in a worker thread, and kept by diff_id (engine/images/store.py).
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import zstandard

from engine.errors import LayerError
from engine.images.blobs import BlobStore
from engine.images.model import Layer

if TYPE_CHECKING:
    from engine.images.store import ImageStore

__all__ = ["measure_layers", "uncompressed_size"]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def uncompressed_size(blobs: BlobStore, digest: str) -> int:
    """The length of the tar inside the blob (the blob's own size for a plain tar)."""
    with blobs.open(digest) as raw:
        head = raw.read(4)
        raw.seek(0)
        reader: _Readable
        if head.startswith(_GZIP_MAGIC):
            reader = gzip.GzipFile(fileobj=raw, mode="rb")
        elif head.startswith(_ZSTD_MAGIC):
            reader = zstandard.ZstdDecompressor().stream_reader(raw)
        else:
            return blobs.size(digest)
        total = 0
        try:
            while chunk := reader.read(_CHUNK):
                total += len(chunk)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as e:
            raise LayerError(f"layer {digest} cannot be decompressed: {e}") from None
        return total


async def measure_layers(store: ImageStore, layers: Sequence[Layer]) -> None:
    """Measure (off the event loop) the layers whose size the store does not know yet,
    so that ``store.add`` needs no decompression of its own."""
    unknown = store.unmeasured(layers)
    if not unknown:
        return
    blobs = store.blobs
    sizes = await asyncio.to_thread(
        lambda: {layer.diff_id: uncompressed_size(blobs, layer.digest) for layer in unknown})
    store.record_sizes(sizes)
