"""Unpacking an image layer into the layer store, as root, without trusting the tar.

A layer blob comes from a registry or an archive: its names, links and modes are
hostile input, and this code runs as root. So the tar is parsed with ``tarfile``
in stream mode but every filesystem step is done by the extractor (extract.py)
relative to directory file descriptors. Nothing is written outside a private
temporary directory, which becomes ``<layers>/sha256/<hex>`` by one rename once
the blob matched its digest and the tar its diff_id.

Every unpack runs within a ``Budget`` (engine/helper/layersource.py): the blob,
the tar and the files written stay under a size limit, the whole under a time
limit, and a cancelled request stops at its next read or write.
"""

from __future__ import annotations

import errno
import os
import tarfile
from pathlib import Path
from tarfile import (  # type: ignore[attr-defined]  # real, but not in typeshed
    InvalidHeaderError,
    TruncatedHeaderError,
)
from typing import IO, Self, cast

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
from engine.helper.layers.streams import CHUNK, Blob, DecodedTar, RawStream, TarStream, drain
from engine.helper.layersource import Budget, UnpackLimits
from engine.helper.rootpath import WALK

__all__ = ["unpack_layer"]

# tarfile's stream buffer is copied whole on every header read: keep it small.
_TAR_BUFFER = 1 << 16


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
    tar_stream = TarStream(decoded)
    root = os.open(temp, OPEN_DIR, dir_fd=scratch_fd)
    try:
        extractor = Extractor(root, scratch_fd, short(diff_id), budget)
        try:
            _read_tar(tar_stream, extractor)
        finally:
            extractor.close()
        while tar_stream.read(CHUNK):  # padding after the end-of-archive blocks
            pass
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


def _read_tar(stream: TarStream, extractor: Extractor) -> None:
    tar = _open_tar(stream, extractor.label)
    if tar is None:
        return
    with tar:
        try:
            while True:
                member = tar.next()
                if member is None:
                    return
                # Stream mode keeps every header it read; the extractor needs none of them.
                del tar.members[:]  # type: ignore[attr-defined]
                stream.data_end = member.offset_data + member.size
                extractor.apply(tar, member)
        except (tarfile.TarError, ValueError, EOFError) as e:
            # tarfile raises a few plain ValueErrors on malformed sparse or PAX headers.
            raise LayerError(f"layer {extractor.label} is not a valid tar: {e}") from e


def _open_tar(stream: TarStream, label: str) -> tarfile.TarFile | None:
    try:
        return tarfile.open(
            fileobj=cast("IO[bytes]", stream),
            mode="r|",
            bufsize=_TAR_BUFFER,
            encoding="utf-8",
            errors="surrogateescape",
            tarinfo=_EntryHeader,
        )
    except tarfile.ReadError as e:
        if stream.size == 0:
            return None  # an empty blob is an empty layer, as docker has it
        raise LayerError(f"layer {label} is not a valid tar: {e}") from e
    except (tarfile.TarError, ValueError, EOFError) as e:
        raise LayerError(f"layer {label} is not a valid tar: {e}") from e


class _EntryHeader(tarfile.TarInfo):
    """tarfile's header, except that a header cut short or damaged after the first one
    is an error, as in Go's reader: tarfile would take it for the end of the archive
    and silently drop the rest. The tar's end is a block of zeros, or nothing at all
    where a header would start."""

    @classmethod
    def fromtarfile(cls, tar: tarfile.TarFile) -> Self:
        try:
            return super().fromtarfile(tar)
        except (TruncatedHeaderError, InvalidHeaderError) as e:
            if tar.offset == 0:
                raise tarfile.ReadError("it does not start with a tar header: it is not a "
                                        "tar archive") from None
            if isinstance(e, TruncatedHeaderError):
                raise tarfile.ReadError("it ends in the middle of an entry's header "
                                        "(the layer is truncated)") from None
            raise tarfile.ReadError(f"damaged entry header ({e})") from None
