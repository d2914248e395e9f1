"""``docker import``: a filesystem tarball becomes a one-layer image.

The tarball may be plain or compressed with gzip, bzip2, xz or zstd, as docker
takes it; the layer is stored uncompressed, so its digest is its diff_id. The
config says where the image came from the way docker's does: one history step
"Imported from -" (or the ``-m`` message), the host's platform unless one is
given, and the ``-c`` instructions applied (engine/images/instructions.py).
The helper unpacks (and so checks) the layer like any other.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import zstandard

from engine.errors import InvalidArgument
from engine.images.blobs import BlobStore, digest_of
from engine.images.instructions import apply_changes
from engine.images.mediatypes import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST
from engine.images.model import Layer
from engine.timestamps import format_rfc3339

if TYPE_CHECKING:
    from engine.images.blobs import Readable

__all__ = ["ImportedImage", "build_import", "decompressed", "store_tarball"]



class ImportedImage:
    """What the image store needs: manifest and config bytes, and the one layer."""

    def __init__(self, manifest: bytes, config: bytes, layer: Layer) -> None:
        self.manifest = manifest
        self.config = config
        self.layers = [layer]


def decompressed(raw: BinaryIO) -> Readable:
    """``raw`` read plain, or through gzip, bzip2, xz or zstd as its first bytes say."""
    head = raw.read(6)
    raw.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return zstandard.ZstdDecompressor().stream_reader(raw)
    return raw


def store_tarball(blobs: BlobStore, source: Path) -> tuple[Layer, bool]:
    """The tarball as an uncompressed layer blob; and whether the blob is new."""
    try:
        with open(source, "rb") as raw:
            digest, created = blobs.ingest_new(decompressed(raw))
    except (OSError, EOFError, lzma.LZMAError, zstandard.ZstdError) as exc:
        raise InvalidArgument(f"cannot read {source} as a tarball: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    return Layer(digest, digest, blobs.size(digest), OCI_LAYER), created


def build_import(layer: Layer, *, changes: Sequence[str] = (), message: str = "",
                 os_name: str = "linux", architecture: str, variant: str = "",
                 now_ns: int | None = None) -> ImportedImage:
    """The manifest and config of an image made of ``layer`` alone."""
    created = format_rfc3339(time.time_ns() if now_ns is None else now_ns)
    run_config = apply_changes({}, changes)
    config: dict[str, Any] = {
        "architecture": architecture, "os": os_name, "created": created,
        "config": run_config,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created": created, "comment": message or "Imported from -"}],
    }
    if variant:
        config["variant"] = variant
    config_bytes = json.dumps(config, separators=(",", ":")).encode()

    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config_bytes),
                   "size": len(config_bytes)},
        "layers": [{"mediaType": layer.media_type, "digest": layer.digest,
                    "size": layer.size}],
    }
    return ImportedImage(json.dumps(manifest, separators=(",", ":")).encode(), config_bytes,
                         layer)
