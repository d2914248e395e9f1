"""An image's size as docker reports it: its layers' files, whatever way it arrived.

A registry sends layers gzip- or zstd-compressed, ``docker save`` archives
hold plain tars, OCI archives either: summing the blobs' sizes showed one image
ID with two sizes. Docker's SIZE is the layers' content as on disk: regular
files' bytes (hard links once) and symlinks' target lengths, not the tars'
lengths (busybox: 1.98 MB of files in a 2.13 MB tar). The helper counts that
while it unpacks a layer and answers with it (engine/services/shared.py keeps
it); a layer stored without being unpacked here is measured by reading its tar
once in a worker thread. Either way the size is kept by diff_id
(engine/images/store.py).
"""

from __future__ import annotations

import asyncio
import gzip
import tarfile
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import zstandard

from engine.errors import LayerError
from engine.images.blobs import BlobStore
from engine.images.model import Layer

if TYPE_CHECKING:
    from engine.images.store import ImageStore

__all__ = ["layer_content_size", "measure_layers"]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def layer_content_size(blobs: BlobStore, digest: str) -> int:
    """The layer's size as docker counts it, read from its stored blob."""
    with blobs.open(digest) as raw:
        head = raw.read(4)
        raw.seek(0)
        reader: _Readable = raw
        if head.startswith(_GZIP_MAGIC):
            reader = gzip.GzipFile(fileobj=raw, mode="rb")
        elif head.startswith(_ZSTD_MAGIC):
            reader = zstandard.ZstdDecompressor().stream_reader(raw)
        try:
            return _content_size(reader)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError, tarfile.TarError) as e:
            raise LayerError(f"layer {digest} cannot be read: {e}") from None


def _content_size(stream: _Readable) -> int:
    """Regular files' bytes and symlinks' targets; an entry a later one of the same name
    replaces does not count (hard links have no bytes of their own in a tar)."""
    sizes: dict[str, int] = {}
    try:
        tar = tarfile.open(fileobj=stream, mode="r|")  # type: ignore[call-overload]  # noqa: SIM115
    except tarfile.ReadError:
        return 0  # an empty blob is an empty layer
    with tar:
        for member in tar:
            if member.isreg():
                sizes[member.name] = member.size
            elif member.issym():
                sizes[member.name] = len(member.linkname.encode("utf-8", "surrogateescape"))
            else:
                sizes.pop(member.name, None)
            del tar.members[:]  # stream mode keeps every header
    return sum(sizes.values())


async def measure_layers(store: ImageStore, layers: Sequence[Layer]) -> None:
    """Measure (off the event loop) the layers whose size the store does not know yet,
    so that ``store.add`` needs no decompression of its own."""
    unknown = store.unmeasured(layers)
    if not unknown:
        return
    blobs = store.blobs
    sizes = await asyncio.to_thread(
        lambda: {layer.diff_id: layer_content_size(blobs, layer.digest) for layer in unknown})
    store.record_sizes(sizes)
