"""A layer blob as the unpacker reads it: hashed, decompressed, counted, bounded.

The blob (``RawStream``) is hashed as it arrives and checked against the layer's
digest; its decoder is chosen from its first bytes (gzip, zstd, or a plain tar);
the tar it decodes to is hashed for the diff_id. Every byte is counted against the
unpack's ``Budget`` (engine/helper/layersource.py).

Reading, hashing and decoding run on a thread of their own (``DecodedTar``), ahead
of the unpack's thread, which parses the tar (tarread.py) and writes the files:
zlib, zstd and sha256 let go of the GIL, so the two overlap on two cores. A layer of
16,000 small files (benchmarks/pull.py's rootfs image) spent ~0.55 s of its unpack's
~1.9 s of CPU inflating and hashing, all of it in front of the tar's parsing.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import zlib
from typing import IO, Protocol, cast

from engine.errors import LayerError
from engine.helper.layersource import Budget

__all__ = ["CHUNK", "Blob", "DecodedTar", "RawStream", "Readable", "decoder", "drain"]

CHUNK = 1 << 20
_INFLATE_INPUT = 1 << 18
_AHEAD = 4  # decoded pieces (each up to CHUNK) the decoding thread may be ahead: 4 MiB

_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BZIP2_BLOCK = b"\x31\x41\x59\x26\x53\x59"


class Blob(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def seekable(self) -> bool: ...


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class RawStream:
    """The blob as it arrives, hashed; the first bytes can be peeked at once."""

    def __init__(self, source: Blob, budget: Budget) -> None:
        self._source = source
        self._budget = budget
        self._hash: hashlib._Hash | None = hashlib.sha256()
        self._peeked = b""

    def _pull(self, size: int) -> bytes:
        try:
            data = self._source.read(size) or b""
        except OSError as e:
            raise LayerError(f"cannot read the layer blob: {e.strerror or e}") from e
        self._budget.blob(len(data))
        if self._hash is not None:
            self._hash.update(data)
        return data

    def unhashed(self) -> None:
        """Nobody asks for the blob's digest: spare hashing the rest."""
        self._hash = None

    def peek(self, size: int) -> bytes:
        while len(self._peeked) < size:
            data = self._pull(size - len(self._peeked))
            if not data:
                break
            self._peeked += data
        return self._peeked[:size]

    def read(self, size: int = -1, /) -> bytes:
        if self._peeked:
            data, self._peeked = self._peeked, b""
            return data
        return self._pull(size if size > 0 else CHUNK)

    def digest(self) -> str:
        assert self._hash is not None, "the blob was read unhashed"
        return "sha256:" + self._hash.hexdigest()


class GzipStream:
    """Inflates gzip (several members too) with zlib, never more than asked at once.

    Each member's header and trailer are read here and its deflate data inflated raw:
    zlib's own gzip mode also computes the CRC-32 of everything it inflates, which the
    tar's sha256 (the diff_id, checked before the layer appears) makes redundant. That
    CRC was the helper's biggest single cost in a pull of benchmarks/pull.py's random
    image (perf: ~27 ms of CPU, crc32_z). The trailer's length is still checked.

    zlib is given the blob 256 KiB at a time: it copies whatever input it leaves
    unconsumed, and with a whole 1 MiB read behind each 64 KiB asked for, that copy
    was 8 bytes for every byte inflated. Not less: each piece inflated is a hand-over
    to the tar's thread, and each may wait for the GIL (the rootfs image's big layer:
    523 pieces of ~230 KiB from 64 KiB, 162 from 256 KiB; the tar's thread waited
    0.12-0.20 s for them, then 0.05-0.10 s)."""

    def __init__(self, raw: RawStream) -> None:
        self._raw = raw
        self._inflate: zlib._Decompress | None = None  # None between members
        self._size = 0  # what the member inflated to so far
        self._pending = b""
        self._at = 0  # how much of _pending is used

    def read(self, size: int = -1, /) -> bytes:
        limit = size if size > 0 else CHUNK
        try:
            while True:
                if self._inflate is None:
                    if not self._header():
                        return b""
                elif self._inflate.eof:
                    self._trailer()
                elif self._at < len(self._pending):
                    piece = memoryview(self._pending)[self._at:self._at + _INFLATE_INPUT]
                    data = self._inflate.decompress(piece, limit)
                    left = self._inflate.unused_data if self._inflate.eof \
                        else self._inflate.unconsumed_tail
                    self._at += len(piece) - len(left)
                    if data:
                        self._size += len(data)
                        return data
                elif not self._more():
                    raise LayerError("the layer blob ends in the middle of its gzip stream")
        except zlib.error as e:
            raise LayerError(f"the layer blob is not valid gzip: {e}") from e

    def _more(self) -> bool:
        """Read on, keeping what is not used yet; False at the blob's end."""
        data = self._raw.read(CHUNK)
        if not data:
            return False
        self._pending, self._at = self._pending[self._at:] + data, 0
        return True

    def _take(self, size: int) -> bytes:
        """The next ``size`` bytes of a header or trailer."""
        while len(self._pending) - self._at < size:
            if not self._more():
                raise LayerError("the layer blob ends in the middle of its gzip stream")
        self._at += size
        return self._pending[self._at - size:self._at]

    def _header(self) -> bool:
        """A member's header (RFC 1952) read, its inflater made; False if no member
        follows (the blob ends)."""
        if self._at >= len(self._pending) and not self._more():
            return False
        head = self._take(10)
        flags = head[3]
        if head[:3] != _GZIP_MAGIC or flags & 0xE0:
            raise LayerError("the layer blob is not valid gzip: incorrect header check")
        if flags & 4:  # FEXTRA: a length, then that many bytes
            self._take(int.from_bytes(self._take(2), "little"))
        for flag in (8, 16):  # FNAME, FCOMMENT: zero-terminated
            if flags & flag:
                while (end := self._pending.find(b"\0", self._at)) < 0:
                    self._at = len(self._pending)  # all of it the string's
                    if not self._more():
                        raise LayerError("the layer blob ends in the middle of its gzip "
                                         "stream")
                self._at = end + 1
        if flags & 2:  # FHCRC
            self._take(2)
        self._inflate, self._size = zlib.decompressobj(-zlib.MAX_WBITS), 0
        return True

    def _trailer(self) -> None:
        """The member's CRC-32 (not checked: see above) and length (checked)."""
        length = int.from_bytes(self._take(8)[4:], "little")
        if length != self._size & 0xFFFFFFFF:
            raise LayerError("the layer blob is not valid gzip: incorrect length check")
        self._inflate = None


class ZstdStream:
    def __init__(self, raw: RawStream) -> None:
        import zstandard  # only zstd layers pay for the import

        self._error = zstandard.ZstdError
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            cast("IO[bytes]", raw), read_size=CHUNK, read_across_frames=True, closefd=False
        )

    def read(self, size: int = -1, /) -> bytes:
        try:
            return bytes(self._reader.read(size if size > 0 else CHUNK))
        except self._error as e:
            raise LayerError(f"the layer blob is not valid zstd: {e}") from e


def decoder(raw: RawStream) -> Readable:
    head = raw.peek(512)
    if head.startswith(_GZIP_MAGIC):
        return GzipStream(raw)
    if head.startswith(_ZSTD_MAGIC):
        return ZstdStream(raw)
    if head.startswith(_XZ_MAGIC) or (
        head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == _BZIP2_BLOCK
    ):
        raise LayerError("the layer is compressed with xz or bzip2, which Skiff does not support")
    return raw


class DecodedTar:
    """The tar inside the blob, read, hashed, decoded and counted by a thread of its
    own; ``read()`` hands it over in the pieces it was decoded in.

    Once the tar has ended, the thread reads the blob to its end (for its digest):
    ``blob_digest()`` and ``tar_digest()`` are final when ``read()`` has returned
    b"". Without ``blob_digest`` wanted, a compressed blob is not hashed (the tar
    still is). A failure on the thread is raised by ``read()``; ``close()`` stops
    the thread (through the budget's halt) and waits for it.
    """

    def __init__(self, raw: RawStream, budget: Budget, *, blob_digest: bool = True) -> None:
        self._raw = raw
        self._budget = budget
        self._blob_digest = blob_digest
        self._hash = hashlib.sha256()
        self._plain = False  # an uncompressed blob is its tar: one hash for both
        self._pieces: queue.Queue[bytes | BaseException] = queue.Queue(_AHEAD)
        self._piece = b""
        self._at = 0
        self._ended = False
        self._thread = threading.Thread(target=self._decode, name="skiff-layer-decode",
                                        daemon=True)
        self._thread.start()

    def _decode(self) -> None:
        try:
            decoded = decoder(self._raw)
            self._plain = decoded is self._raw
            if not self._plain and not self._blob_digest:
                self._raw.unhashed()
            while data := decoded.read(CHUNK):
                self._budget.tar(len(data))
                if not self._plain:
                    self._hash.update(data)
                self._pieces.put(data)
            while self._raw.read(CHUNK):  # what follows the tar, for the blob's digest
                pass
            self._pieces.put(b"")
        except BaseException as e:  # handed to the reader, who raises it
            self._pieces.put(e)

    def read(self, size: int = -1, /) -> bytes:
        if self._at >= len(self._piece):
            if self._ended:
                return b""
            got = self._pieces.get()
            if isinstance(got, BaseException):
                self._ended = True
                raise got
            self._piece, self._at, self._ended = got, 0, not got
        piece, at = self._piece, self._at
        end = len(piece) if size < 0 else min(len(piece), at + size)
        self._at = end
        return piece if at == 0 and end == len(piece) else piece[at:end]

    def blob_digest(self) -> str:
        return self._raw.digest()

    def tar_digest(self) -> str:
        if self._plain:
            return self._raw.digest()
        return "sha256:" + self._hash.hexdigest()

    def close(self) -> None:
        """Stop the thread, if it still runs, and wait for it."""
        if self._thread.is_alive():
            self._budget.halt.cancel()
            while self._thread.is_alive():  # make room for a put it may wait in
                try:
                    self._pieces.get(timeout=0.05)
                except queue.Empty:
                    pass
        self._thread.join()


def drain(source: Blob, budget: Budget) -> None:
    """Read a pipe to its end so its writer finishes; a seekable file needs nothing."""
    try:
        if source.seekable():
            return
    except (AttributeError, OSError, ValueError):
        pass
    try:
        while data := source.read(CHUNK):
            budget.blob(len(data))
    except OSError as e:
        raise LayerError(f"cannot read the layer blob: {e.strerror or e}") from e
