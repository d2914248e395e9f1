"""An image archive's members, taken in one sequential pass over the (maybe compressed) tar.

Every file member streams into the blob store and only the small index files
(manifest.json, index.json, oci-layout, repositories) are kept in memory. Member
names are only keys for looking things up (nothing is ever extracted to a path),
so a hostile name cannot reach the host filesystem. Blobs named
``blobs/sha256/<hex>`` must hash to that name. What the members mean is
engine/images/archive.py's.
"""

from __future__ import annotations

import gzip
import lzma
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

import zstandard

from engine.errors import DigestMismatch, InvalidArgument
from engine.images.blobs import BlobStore

__all__ = ["METADATA_LIMIT", "ZSTD_MAGIC", "Contents", "NotAnArchive", "normalise", "scan"]

_METADATA_FILES = {"manifest.json", "index.json", "oci-layout", "repositories"}
METADATA_LIMIT = 16 << 20  # index files and configs are small; refuse giants
_BLOB_NAME = re.compile(r"^blobs/sha256/([a-f0-9]{64})$")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_TAR_ERRORS = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile,
               zstandard.ZstdError)


class NotAnArchive(Exception):
    """The input is not an image archive; the message says why."""


class Contents:
    """What one pass over the archive found, by (normalised) member name."""

    def __init__(self, path: Path, blobs: BlobStore) -> None:
        self.path = path
        self.blobs = blobs
        self.files: dict[str, str] = {}  # name -> digest of its content in the blob store
        self.links: dict[str, str] = {}  # name -> name it points to
        self.metadata: dict[str, bytes] = {}
        self.added: set[str] = set()  # digests this read put into the blob store

    def digest(self, name: str, what: str) -> str:
        """The digest of the member ``name``, following links."""
        key = normalise(name)
        for _ in range(32):
            if key in self.files:
                return self.files[key]
            if key not in self.links:
                break
            key = self.links[key]
        raise NotAnArchive(f"{what} {name!r} is not in the archive")

    def blob(self, digest: str, what: str) -> str:
        """Check that the OCI blob ``digest`` is in the archive; return it."""
        if not isinstance(digest, str) or not re.match(r"^sha256:[a-f0-9]{64}$", digest):
            raise NotAnArchive(f"{what} has an invalid digest {digest!r}")
        self.digest(f"blobs/sha256/{digest.removeprefix('sha256:')}", what)
        return digest

    def has_blob(self, digest: str) -> bool:
        try:
            self.blob(digest, "blob")
        except NotAnArchive:
            return False
        return True

    def read_small(self, digest: str, what: str) -> bytes:
        if self.blobs.size(digest) > METADATA_LIMIT:
            raise NotAnArchive(f"{what} {digest} is too large")
        return self.blobs.read_bytes(digest)

    def discard_added(self, keep: set[str]) -> None:
        for digest in self.added - keep:
            with suppress(OSError):
                self.blobs.remove(digest)


def scan(path: Path, contents: Contents) -> None:
    try:
        with _open_tar(path) as tar:
            for member in tar:
                name = normalise(member.name)
                if member.issym():
                    contents.links[name] = normalise(
                        posixpath.join(posixpath.dirname(name), member.linkname))
                elif member.islnk():
                    contents.links[name] = normalise(member.linkname)
                elif member.isreg():
                    _take_file(tar, member, name, contents)
    except _TAR_ERRORS as e:
        raise NotAnArchive(str(e) or type(e).__name__) from None


def _take_file(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str,
               contents: Contents) -> None:
    stream = tar.extractfile(member)
    if stream is None:
        return
    if name in _METADATA_FILES:
        if member.size > METADATA_LIMIT:
            raise NotAnArchive(f"{name} is too large ({member.size} bytes)")
        contents.metadata[name] = stream.read()
        return
    match = _BLOB_NAME.match(name)
    expected = f"sha256:{match.group(1)}" if match else None
    if expected is not None and contents.blobs.has(expected):
        contents.files[name] = expected  # already stored (and verified) earlier
        return
    try:
        digest, created = contents.blobs.ingest_new(stream, expected, member.size)
    except DigestMismatch:
        raise DigestMismatch(f"{contents.path} is corrupt: {name} does not match its "
                             "digest") from None
    contents.files[name] = digest
    if created:
        contents.added.add(digest)


@contextmanager
def _open_tar(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        raw: BinaryIO = path.open("rb")
    except IsADirectoryError:
        raise InvalidArgument(f"{path} is a directory, not an image archive") from None
    except OSError as e:
        raise InvalidArgument(f"cannot read {path}: {e.strerror}") from None
    with raw:
        head = raw.read(8)
        raw.seek(0)
        if head.startswith(ZSTD_MAGIC):
            reader = zstandard.ZstdDecompressor().stream_reader(raw)
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                yield tar
        else:
            # r|* recognises gzip, bzip2 and xz, as docker load does.
            with tarfile.open(fileobj=raw, mode="r|*") as tar:
                yield tar


def normalise(name: str) -> str:
    name = posixpath.normpath(name.lstrip("/"))
    return "" if name == "." else name
