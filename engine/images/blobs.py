"""The content-addressed blob store: manifests, configs and layer blobs by digest.

Everything the engine downloads or loads lands here first, at
``<root>/blobs/sha256/<hex>``. A blob appears under its name only once its bytes
are on disk, synced, and hash to that name: writers fill a private temporary
file and rename it into place, so readers never see a half-written blob and two
writers of the same content simply race to install identical bytes.

Resumable downloads keep their bytes in ``<root>/blobs/partial/<hex>`` until
they are complete and verified (``PartialBlob``).

Paths are strings, as engine/paths.py's: ``skiff images`` and ``inspect`` read
blobs without importing pathlib (~4 ms of either, run with no CLI server up).
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import time
from collections.abc import Iterator

from engine.errors import Conflict, DigestMismatch, InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # Readable is a type only: a Protocol at run time imports typing
    import hashlib
    from os import PathLike
    from typing import BinaryIO, Protocol

    class Readable(Protocol):
        """Anything with ``read(n)``: files, tar members, decompressors, HTTP streams."""

        def read(self, size: int = -1, /) -> bytes: ...

__all__ = ["BlobStore", "PartialBlob", "digest_of", "sha256", "validate_digest"]

# The same text as the references', the image store's and the protocol's digest
# patterns: re compiles it once for all four.
_DIGEST = r"^sha256:[a-f0-9]{64}$"
_HEX = r"^[a-f0-9]{64}$"
_CHUNK = 1 << 20
# Temporary files older than this belong to a writer that died.
_STALE_SECONDS = 24 * 3600


def validate_digest(digest: str) -> str:
    """Return the hex part of ``sha256:<64 hex>``; anything else is InvalidArgument."""
    if not isinstance(digest, str) or not re.match(_DIGEST, digest):
        raise InvalidArgument(f"invalid digest {digest!r}: expected sha256: and 64 hex digits")
    return digest.removeprefix("sha256:")


def digest_of(data: bytes) -> str:
    hasher = sha256()
    hasher.update(data)
    return "sha256:" + hasher.hexdigest()


def sha256() -> hashlib._Hash:
    """A new SHA-256 hasher. hashlib (OpenSSL's, ~4 ms to import) is loaded by what
    hashes, not by every command that lists the store."""
    import hashlib

    return hashlib.sha256()


class BlobStore:
    """Blobs under ``root/blobs``; safe to share between processes."""

    def __init__(self, root: str | PathLike[str]) -> None:
        self.root = os.path.join(root, "blobs")
        self._sha256 = os.path.join(self.root, "sha256")
        self._partial = os.path.join(self.root, "partial")
        self._tmp = os.path.join(self.root, "tmp")
        for directory in (self._sha256, self._partial, self._tmp):
            os.makedirs(directory, exist_ok=True)
        self._remove_stale_temporaries()

    # -- reading ----------------------------------------------------------------
    def path(self, digest: str) -> str:
        return f"{self._sha256}/{validate_digest(digest)}"

    def has(self, digest: str) -> bool:
        return os.path.isfile(self.path(digest))

    def size(self, digest: str) -> int:
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            raise self._missing(digest) from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise self._missing(digest) from None

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as stream:
            return stream.read()

    def digests(self) -> Iterator[str]:
        for entry in os.scandir(self._sha256):
            if re.match(_HEX, entry.name):
                yield f"sha256:{entry.name}"

    # -- writing ----------------------------------------------------------------
    def put_bytes(self, data: bytes, expected: str | None = None) -> str:
        digest = digest_of(data)
        if expected is not None:
            validate_digest(expected)
            if digest != expected:
                raise DigestMismatch(f"content does not match its digest: expected {expected}, "
                                     f"got {digest}")
        if self.has(digest):
            return digest
        fd, tmp = self._temporary()
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self._install(tmp, digest)
        except BaseException:
            _unlink(tmp)
            raise
        return digest

    def ingest(self, stream: Readable, expected: str | None = None,
               size: int | None = None) -> str:
        """Copy ``stream`` into the store and return its digest.

        With ``expected`` or ``size`` the content must match them (DigestMismatch
        otherwise, and nothing is stored).
        """
        return self.ingest_new(stream, expected, size)[0]

    def ingest_new(self, stream: Readable, expected: str | None = None,
                   size: int | None = None) -> tuple[str, bool]:
        """``ingest``, also telling whether the blob was new to the store.

        Lets a caller that stores blobs speculatively (an archive's members)
        remove again only what it added.
        """
        if expected is not None:
            validate_digest(expected)
        hasher = sha256()
        written = 0
        fd, tmp = self._temporary()
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    hasher.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = "sha256:" + hasher.hexdigest()
            _check(digest, written, expected, size)
            created = not self.has(digest)
            self._install(tmp, digest)
        except BaseException:
            _unlink(tmp)
            raise
        return digest, created

    def partial(self, digest: str) -> PartialBlob:
        """A resumable download of ``digest``; see ``PartialBlob``."""
        return PartialBlob(self, digest, self.partial_path(digest))

    def partial_path(self, digest: str) -> str:
        """Where the bytes of a download of ``digest`` are kept until it completes."""
        return f"{self._partial}/{validate_digest(digest)}"

    def remove(self, digest: str) -> None:
        _unlink(self.path(digest))

    # -- internals --------------------------------------------------------------
    def _temporary(self) -> tuple[int, str]:
        import tempfile  # with shutil, bz2 and lzma ~2 ms: `skiff images` writes no blob

        return tempfile.mkstemp(dir=self._tmp, prefix="ingest-")

    def _install(self, tmp: str, digest: str) -> None:
        # Blobs are immutable: read-only files make accidental writes fail loudly.
        os.chmod(tmp, 0o444)
        os.replace(tmp, self.path(digest))
        _fsync_dir(self._sha256)

    def _missing(self, digest: str) -> NotFound:
        return NotFound(f"blob {digest} is not in the local blob store ({self._sha256})")

    def _remove_stale_temporaries(self) -> None:
        cutoff = time.time() - _STALE_SECONDS
        for entry in os.scandir(self._tmp):
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass


class PartialBlob:
    """A blob being downloaded, kept across runs so a download can resume.

    ``offset`` is how many bytes are already on disk (ask the registry for
    ``Range: bytes=<offset>-``); the hash state is rebuilt from them on open.
    One writer at a time: a second process opening the same partial blob gets
    Conflict. Close (or use as a context manager) to keep the bytes for later;
    ``commit`` installs the blob, ``discard`` drops it.
    """

    def __init__(self, store: BlobStore, digest: str, path: str) -> None:
        self.store = store
        self.digest = digest
        self.path = path
        self._hasher = sha256()
        # Unbuffered: the bytes counted in ``offset`` are in the file, where a reader
        # following the download (engine/registry/blobfeed.py) finds them.
        self._file: io.FileIO | None = open(  # noqa: SIM115 - owned until close
            path, "a+b", buffering=0)
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise Conflict(f"blob {digest} is already being downloaded by another process") \
                from None
        self._file.seek(0)
        self.offset = 0
        while True:
            chunk = self._file.read(_CHUNK)
            if not chunk:
                break
            self._hasher.update(chunk)
            self.offset += len(chunk)

    def write(self, chunk: bytes) -> None:
        out = self._open_file()
        view = memoryview(chunk)
        while view:
            view = view[out.write(view) or 0:]
        self._hasher.update(chunk)
        self.offset += len(chunk)

    def commit(self, size: int | None = None) -> None:
        """Verify the bytes and install them as the blob (DigestMismatch discards them)."""
        out = self._open_file()
        out.flush()
        os.fsync(out.fileno())
        digest = "sha256:" + self._hasher.hexdigest()
        try:
            _check(digest, self.offset, self.digest, size)
        except DigestMismatch:
            self.discard()
            raise
        self.store._install(self.path, self.digest)
        self.close()

    def discard(self) -> None:
        _unlink(self.path)
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # also releases the lock
            self._file = None

    def __enter__(self) -> PartialBlob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open_file(self) -> io.FileIO:
        if self._file is None:
            raise InvalidArgument(f"partial blob {self.digest} is already closed")
        return self._file


def _check(digest: str, size: int, expected: str | None, expected_size: int | None) -> None:
    if expected_size is not None and size != expected_size:
        raise DigestMismatch(f"content of {expected or digest} has {size} bytes, "
                             f"expected {expected_size}")
    if expected is not None and digest != expected:
        raise DigestMismatch(f"content does not match its digest: expected {expected}, "
                             f"got {digest}")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
