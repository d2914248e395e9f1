"""Unpacking an image layer into the layer store, as root, without trusting the tar.

A layer blob comes from a registry or an archive: its names, links and modes are
hostile input, and this code runs as root. So the tar is parsed by a reader that
checks every header (tarread.py) and every filesystem step is done by the extractor
(extract.py) relative to directory file descriptors. Nothing is written outside a private
temporary directory, which becomes ``<layers>/sha256/<hex>`` by one rename once
the blob matched its digest and the tar its diff_id.

Every unpack runs within a ``Budget`` (engine/helper/layersource.py): the blob,
the tar and the files written stay under a size limit, the whole under a time
limit, and a cancelled request stops at its next read or write.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from engine.errors import DigestMismatch, LayerError
from engine.helper.layers.extract import Extractor
from engine.helper.layers.store import (
    OPEN_DIR,
    digest_hex,
    ensure_dir,
    has_layer,
    layer_path,
    layer_size,
    make_temp,
    remove_tree,
    short,
    tree_size,
)
from engine.helper.layers.streams import Blob, DecodedTar, RawStream, drain
from engine.helper.layers.tarread import TarFormatError, TarReader
from engine.helper.layersource import Budget, UnpackLimits
from engine.helper.rootpath import WALK

__all__ = ["unpack_layer"]

def unpack_layer(
    source: Blob, layers_dir: Path, *, diff_id: str, digest: str | None = None,
    budget: Budget | None = None,
) -> int:
    """Unpack the layer blob read from ``source`` (read once, sequentially).

    The blob may be a plain, gzip or zstd tar. It must hash to ``digest`` when
    given, and the tar to ``diff_id``; the layer appears at ``layer_path()`` only
    then. Returns the layer's size as docker counts it: regular files' bytes (hard
    links once) and symlinks' target lengths. When the layer is already there, a
    pipe is read to its end and nothing else happens. Raises DigestMismatch for
    content that does not match its digests, LayerError for a tar that is corrupt
    or tries to escape its directory or passes a limit of ``budget`` (default:
    ``UnpackLimits()``), Cancelled when the budget's request is cancelled; nothing is left behind.
    """
    final = layer_path(layers_dir, diff_id)
    if digest is not None:
        digest_hex(digest)
    if budget is None:
        budget = Budget(UnpackLimits(), short(diff_id))
    if has_layer(layers_dir, diff_id):
        drain(source, budget)
        return layer_size(layers_dir, diff_id)
    layers_dir = Path(layers_dir)
    try:
        ensure_dir(layers_dir)
        ensure_dir(final.parent)
        scratch = ensure_dir(layers_dir / "tmp")
        scratch_fd = os.open(scratch, WALK)
    except OSError as e:
        raise LayerError(f"cannot prepare the layer store {layers_dir}: {e.strerror}") from e
    try:
        temp = make_temp(scratch_fd, digest_hex(diff_id)[:12])
        try:
            size = _unpack_into(source, scratch_fd, temp, diff_id, digest, budget)
            try:
                os.rename(temp, final, src_dir_fd=scratch_fd)
            except OSError as e:
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not has_layer(
                    layers_dir, diff_id
                ):
                    raise
                # Another unpack of the same layer won the race: keep its copy.
                _discard(scratch_fd, temp)
            return size
        except BaseException:
            _discard(scratch_fd, temp)
            raise
    except OSError as e:
        raise LayerError(f"cannot store layer {short(diff_id)}: {e.strerror or e}") from e
    finally:
        os.close(scratch_fd)


def _discard(scratch_fd: int, temp: bytes) -> None:
    try:
        remove_tree(scratch_fd, temp, scratch_fd)
    except OSError:
        pass  # clean_temp() at the next start removes what is left


def _unpack_into(
    source: Blob, scratch_fd: int, temp: bytes, diff_id: str, digest: str | None,
    budget: Budget,
) -> int:
    decoded = DecodedTar(RawStream(source, budget), budget, blob_digest=digest is not None)
    try:
        return _unpack_decoded(decoded, scratch_fd, temp, diff_id, digest, budget)
    finally:
        decoded.close()


def _unpack_decoded(
    decoded: DecodedTar, scratch_fd: int, temp: bytes, diff_id: str, digest: str | None,
    budget: Budget,
) -> int:
    reader = TarReader(decoded)
    root = os.open(temp, OPEN_DIR, dir_fd=scratch_fd)
    try:
        extractor = Extractor(root, scratch_fd, short(diff_id), budget)
        try:
            _read_tar(reader, extractor)
        finally:
            extractor.close()
        reader.drain()  # padding after the end-of-archive blocks
        if digest is not None and decoded.blob_digest() != digest:
            raise DigestMismatch(
                f"layer blob {short(digest)} does not match its digest (got "
                f"{short(decoded.blob_digest())}): the download is damaged; pull the image again"
            )
        if decoded.tar_digest() != diff_id:
            raise DigestMismatch(
                f"layer {short(diff_id)} unpacks to {short(decoded.tar_digest())}, not its "
                "diff_id: the image is damaged; pull it again"
            )
        extractor.finish()
        if not extractor.replaced:
            return extractor.content_bytes
        # Counted on disk: later entries replaced earlier files.
        return tree_size(root)
    finally:
        os.close(root)


def _read_tar(reader: TarReader, extractor: Extractor) -> None:
    try:
        while (entry := reader.next()) is not None:
            extractor.apply(reader, entry)
    except TarFormatError as e:
        raise LayerError(f"layer {extractor.label} is not a valid tar: {e}") from e
