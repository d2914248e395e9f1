"""Reading a layer's tar, a hostile stream: what tarfile reads, for a fraction of its CPU.

A layer's one thread parses its tar and writes its files: that thread is a pull's
critical path. tarfile's stream mode spent ~0.6 s of Python on the 18,000 headers of
benchmarks/pull.py's rootfs layer (a buffer copied at each header, a call per field,
its checksums summed twice); this reader ~0.1 s: one ``struct`` unpack a header, and
each entry's data handed over as views of the decoded pieces, never copied.

It reads what Go's archive/tar (docker's) reads: ustar, old GNU (long names and link
names, sparse files) and PAX (local headers, xattrs, sparse formats 0.0, 0.1 and 1.0),
numbers in octal or base-256; a global PAX header is skipped, as docker does. The tar
ends at a block of zeros, or where a header would start (Go's reader, and so docker,
accept a tar without its end blocks, even without its last entry's padding). Refused
with a ``TarFormatError``: a header that is cut, damaged (its checksum, a number) or
not followed by the entry it describes, a PAX header or long name over 1 MiB, a sparse
map that is not in order or does not match the data, a cut in an entry's data.
"""

from __future__ import annotations

import struct
from typing import Protocol

__all__ = ["BLOCK", "Entry", "TarFormatError", "TarReader"]

BLOCK = 512
_PIECE = 1 << 20
_SPECIAL_MAX = 1 << 20  # a PAX header's or long name's data: Go's reader's bound too
_ZEROS = bytes(BLOCK)

# name, mode, uid, gid, size, mtime, checksum, type, linkname, magic (+ version),
# (uname, gname skipped), devmajor, devminor, prefix.
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s8s64x8s8s155s12x")
_USTAR = b"ustar\0"
_REGULAR = frozenset({b"0", b"\0", b"7", b"S"})  # tarfile's and Go's
_DATA_LESS = frozenset({b"1", b"2", b"3", b"4", b"5", b"6"})  # no data, whatever the size
_GNU_SPARSE_AT = 386  # old GNU sparse: 4 (offset, length) pairs, then "is extended"
_GNU_REALSIZE = slice(483, 495)


class TarFormatError(Exception):
    """The stream is not a valid tar (the text says why, for "not a valid tar: ...")."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Entry:
    """An entry's header, with the fields and tests of tarfile's ``TarInfo`` that the
    extractor reads (engine/helper/untar.py writes either)."""

    __slots__ = ("devmajor", "devminor", "gid", "linkname", "mode", "mtime", "name",
                 "pax_headers", "size", "sparse", "type", "uid")

    def __init__(self, name: str, kind: bytes, mode: int, uid: int, gid: int, size: int,
                 mtime: int, linkname: str, pax_headers: dict[str, str]) -> None:
        self.name = name
        self.type = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size  # a sparse file's whole size: what reading its data gives
        self.mtime = mtime
        self.linkname = linkname
        self.pax_headers = pax_headers
        self.devmajor = 0
        self.devminor = 0
        self.sparse: list[tuple[int, int]] | None = None  # (offset, length) of its data

    def isreg(self) -> bool:
        return self.type in _REGULAR

    def isdir(self) -> bool:
        return self.type == b"5"

    def issym(self) -> bool:
        return self.type == b"2"

    def islnk(self) -> bool:
        return self.type == b"1"

    def ischr(self) -> bool:
        return self.type == b"3"

    def isblk(self) -> bool:
        return self.type == b"4"

    def isfifo(self) -> bool:
        return self.type == b"6"


class TarReader:
    """Entries read one after the other from ``source`` (decoded pieces of the tar).

    ``next()`` gives the next entry, or None at the tar's end; ``extractfile(entry)``
    reads a regular file's data, until the next ``next()``. ``drain()`` reads what
    follows the tar. ``size`` counts the bytes read from ``source``."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self._piece = b""
        self._at = 0
        self.size = 0
        self._stored = 0  # the current entry's data left unread in the stream
        self._padding = 0  # then its padding to a whole block
        self._ended = False  # the tar's end was read
        self._started = False  # a header was read

    # -- the stream --

    def _pull(self) -> bool:
        piece = self._source.read(_PIECE)
        if not piece:
            return False
        self.size += len(piece)
        self._piece, self._at = piece, 0
        return True

    def _take(self, size: int) -> bytes:
        """``size`` bytes, fewer only where the stream ends."""
        at, end = self._at, self._at + size
        if end <= len(self._piece):
            self._at = end
            return self._piece[at:end]
        got = [self._piece[at:]]
        self._at = len(self._piece)
        size -= len(got[0])
        while size and self._pull():
            got.append(self._piece[:size])
            self._at = len(got[-1])
            size -= self._at
        return b"".join(got)

    def _skip(self, size: int) -> int:
        """Pass over up to ``size`` bytes; how many there were."""
        left = size
        while left:
            if self._at >= len(self._piece) and not self._pull():
                break
            step = min(left, len(self._piece) - self._at)
            self._at += step
            left -= step
        return size - left

    def view(self, size: int) -> memoryview:
        """Up to ``size`` bytes of the current entry's data, without a copy."""
        size = min(size, self._stored)
        if not size:
            return memoryview(b"")
        if self._at >= len(self._piece) and not self._pull():
            raise TarFormatError("it ends in the middle of an entry's data "
                                 "(the layer is truncated)")
        at = self._at
        end = min(len(self._piece), at + size)
        self._at = end
        self._stored -= end - at
        return memoryview(self._piece)[at:end]

    def drain(self) -> None:
        """Read the stream to its end (what follows the tar's end blocks)."""
        self._at = len(self._piece)
        while self._pull():
            pass

    # -- entries --

    def extractfile(self, entry: Entry) -> EntryData | None:
        """The data of ``entry``, the last one ``next()`` gave, if it is a regular file."""
        return EntryData(self, entry) if entry.isreg() else None

    def next(self) -> Entry | None:
        if self._ended or not self._end_entry():
            self._ended = True
            return None
        pax: dict[str, str] = {}
        sparse00: list[int] = []  # PAX sparse 0.0: offsets and lengths, in turn
        long_name = long_link = None
        pending = False  # a header that describes the next one was read
        while True:
            block = self._take(BLOCK)
            if not block and not pending:
                self._ended = True  # the tar ends where a header would start
                return None
            if len(block) < BLOCK:
                if not self._started:
                    raise TarFormatError("it does not start with a tar header: it is not "
                                         "a tar archive")
                raise TarFormatError("it ends in the middle of an entry's header "
                                     "(the layer is truncated)")
            if block == _ZEROS:
                if pending:
                    raise TarFormatError("damaged entry header (the end of the archive "
                                         "where an entry's header was announced)")
                self._ended = True
                return None
            (name, mode, uid, gid, size, mtime, checksum, kind, linkname, magic, devmajor,
             devminor, prefix) = _HEADER.unpack(block)
            try:
                _check(block, checksum)
                self._started = True
                size_n = _number(size, "size")
                stored = 0 if kind in _DATA_LESS else size_n
                if kind in (b"x", b"X", b"g", b"L", b"K"):
                    data = self._special(stored)
                    pending = pending or kind != b"g"
                    if kind == b"L":
                        long_name = _text(data.split(b"\0", 1)[0])
                    elif kind == b"K":
                        long_link = _text(data.split(b"\0", 1)[0])
                    elif kind != b"g":  # a global header: skipped, as docker does
                        _pax_records(data, pax, sparse00)
                    continue
                entry = Entry(
                    _text(name.split(b"\0", 1)[0]), kind, _number(mode, "mode"),
                    _number(uid, "uid"), _number(gid, "gid"), size_n,
                    _number(mtime, "mtime", signed=True),
                    _text(linkname.split(b"\0", 1)[0]), pax)
                if magic.startswith(_USTAR) and prefix[0]:
                    entry.name = _text(prefix.split(b"\0", 1)[0]) + "/" + entry.name
                if kind in (b"3", b"4"):
                    entry.devmajor = _number(devmajor, "devmajor")
                    entry.devminor = _number(devminor, "devminor")
                if kind == b"S":
                    entry.sparse = self._gnu_sparse(block)
                    entry.size = _number(block[_GNU_REALSIZE], "size")
                if pax:
                    stored = self._apply_pax(entry, pax, sparse00, stored)
            except ValueError as e:
                if not self._started:
                    raise TarFormatError("it does not start with a tar header: it is not "
                                         "a tar archive") from None
                raise TarFormatError(f"damaged entry header ({e})") from None
            if long_name is not None:
                entry.name = long_name
            if long_link is not None:
                entry.linkname = long_link
            if kind == b"\0" and entry.name.endswith("/"):
                entry.type = b"5"  # an old tar's directory
            if entry.type == b"5":
                entry.name = entry.name.rstrip("/")
            if entry.sparse is not None:
                _check_sparse(entry.sparse, entry.size, stored)
            self._stored, self._padding = stored, -stored % BLOCK
            return entry

    def _end_entry(self) -> bool:
        """Pass over what is left of the current entry; False where the tar ends right
        after its data, without the padding."""
        if self._skip(self._stored) != self._stored:
            raise TarFormatError("it ends in the middle of an entry's data "
                                 "(the layer is truncated)")
        self._stored = 0
        padding, self._padding = self._padding, 0
        skipped = self._skip(padding)
        if skipped == padding:
            return True
        if skipped:
            raise TarFormatError("it ends in the middle of an entry's padding "
                                 "(the layer is truncated)")
        return False

    def _special(self, size: int) -> bytes:
        """A PAX header's or long name's data, and its padding."""
        if size > _SPECIAL_MAX:
            raise ValueError(f"an extended header of {size} bytes")
        data = self._take(size)
        if len(data) < size or self._skip(-size % BLOCK) < -size % BLOCK:
            raise TarFormatError("it ends in the middle of an entry's header "
                                 "(the layer is truncated)")
        return data

    def _gnu_sparse(self, block: bytes) -> list[tuple[int, int]]:
        """An old GNU sparse file's map: in its header, then in extension blocks."""
        found: list[tuple[int, int]] = []
        area, at, count = block, _GNU_SPARSE_AT, 4
        for _ in range(_SPECIAL_MAX // BLOCK):
            for n in range(count):
                field = area[at + 24 * n: at + 24 * n + 24]
                if field[0] == 0:
                    break
                found.append((_number(field[:12], "sparse offset"),
                              _number(field[12:], "sparse length")))
            if not area[at + 24 * count]:  # "is extended": another block follows
                return found
            area, at, count = self._take(BLOCK), 0, 21
            if len(area) < BLOCK:
                raise TarFormatError("it ends in the middle of an entry's header "
                                     "(the layer is truncated)")
        raise ValueError("a sparse map over 1 MiB")

    def _apply_pax(self, entry: Entry, pax: dict[str, str], sparse00: list[int],
                   stored: int) -> int:
        """The PAX records over the header's fields; the data's stored size."""
        if "path" in pax:
            entry.name = pax["path"]
        if "linkpath" in pax:
            entry.linkname = pax["linkpath"]
        for key in ("uid", "gid", "size"):
            if key in pax:
                setattr(entry, key, _decimal(pax[key], key))
        if "size" in pax and entry.type not in _DATA_LESS:
            stored = entry.size
        if pax.get("GNU.sparse.major") == "1" and pax.get("GNU.sparse.minor") == "0":
            entry.sparse, used = self._sparse_map_10(stored)
            stored -= used
        elif "GNU.sparse.map" in pax:
            numbers = [_decimal(n, "sparse map") for n in pax["GNU.sparse.map"].split(",")]
            entry.sparse = _pairs(numbers)
        elif sparse00:
            entry.sparse = _pairs(sparse00)
        else:
            return stored
        entry.name = pax.get("GNU.sparse.name", entry.name)
        entry.size = _decimal(pax.get("GNU.sparse.realsize", pax.get("GNU.sparse.size", "")),
                              "sparse size")
        return stored

    def _sparse_map_10(self, stored: int) -> tuple[list[tuple[int, int]], int]:
        """PAX sparse 1.0: the map at the head of the data, in whole blocks."""
        text = b""
        while True:
            if len(text) + BLOCK > min(stored, _SPECIAL_MAX):
                raise ValueError("a sparse map longer than its data")
            block = self._take(BLOCK)
            if len(block) < BLOCK:
                raise TarFormatError("it ends in the middle of an entry's data "
                                     "(the layer is truncated)")
            text += block
            lines = text.split(b"\n")
            if lines[0] and len(lines) - 1 > 2 * _decimal(lines[0].decode("ascii"), "map"):
                count = int(lines[0])
                numbers = [_decimal(line.decode("ascii"), "sparse map")
                           for line in lines[1:1 + 2 * count]]
                return _pairs(numbers), len(text)


class EntryData:
    """A regular file's data, as views (sparse files: their holes as zeros)."""

    __slots__ = ("_left", "_reader", "_segments")

    def __init__(self, reader: TarReader, entry: Entry) -> None:
        self._reader = reader
        self._left = entry.size
        self._segments: list[tuple[int, int]] | None = None
        if entry.sparse is not None:
            self._segments = _segments(entry.sparse, entry.size)

    def read(self, size: int = -1, /) -> memoryview:
        if size < 0:
            size = self._left
        if self._segments is None:
            got = self._reader.view(min(size, self._left))
            self._left -= len(got)
            return got
        while self._segments:
            is_data, length = self._segments[0]
            if not length:
                del self._segments[0]
                continue
            step = min(size, length, _PIECE)
            got = self._reader.view(step) if is_data else memoryview(_zeros(step))
            if not got:
                raise TarFormatError("it ends in the middle of an entry's data "
                                     "(the layer is truncated)")
            self._segments[0] = (is_data, length - len(got))
            self._left -= len(got)
            return got
        return memoryview(b"")


def _segments(sparse: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """A sparse file as (data?, length) runs from its start to its end."""
    runs: list[tuple[int, int]] = []
    at = 0
    for offset, length in sparse:
        runs += [(0, offset - at), (1, length)]
        at = offset + length
    runs.append((0, size - at))
    return runs


_ZERO_PIECE = bytes(_PIECE)


def _zeros(size: int) -> bytes | memoryview:
    return memoryview(_ZERO_PIECE)[:size]


def _check(block: bytes, field: bytes) -> None:
    """The header's checksum: its bytes summed, the field itself as spaces (unsigned,
    or as some old tars summed them, signed)."""
    unsigned = sum(block) - sum(block[148:156]) + 256
    wanted = _number(field, "checksum")
    if wanted != unsigned and wanted != unsigned - 256 * sum(
            b >= 128 for b in block[:148] + block[156:]):
        raise ValueError("bad checksum")


def _number(field: bytes, what: str, *, signed: bool = False) -> int:
    """A header's number: octal text (NULs and spaces around it), or base-256 (negative
    only where ``signed``)."""
    if field[0] == 0x80:
        return int.from_bytes(field[1:], "big")
    if field[0] == 0xFF:
        if not signed:
            raise ValueError(f"negative {what} field")
        return int.from_bytes(field, "big", signed=True)
    text = field.strip(b" \0")
    if not text:
        return 0
    if not text.isdigit():
        raise ValueError(f"invalid {what} field")
    return int(text, 8)  # a ValueError on 8 or 9


def _decimal(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"invalid {what} record")
    return int(text)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _pairs(numbers: list[int]) -> list[tuple[int, int]]:
    if len(numbers) % 2:
        raise ValueError("an odd sparse map")
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def _check_sparse(sparse: list[tuple[int, int]], size: int, stored: int) -> None:
    at = 0
    for offset, length in sparse:
        if offset < at or length < 0 or offset + length > size:
            raise TarFormatError("damaged entry header (a sparse map out of order)")
        at = offset + length
    if sum(length for _, length in sparse) != stored:
        raise TarFormatError("damaged entry header (a sparse map that does not match "
                             "its data)")


def _pax_records(data: bytes, pax: dict[str, str], sparse00: list[int]) -> None:
    """``LENGTH KEY=VALUE\\n`` records, added to ``pax`` (the later win, as in Go)."""
    at = 0
    while at < len(data):
        space = data.find(b" ", at, at + 20)
        length = data[at:space]
        if space < 0 or not length.isdigit():
            raise ValueError("a damaged PAX record")
        end = at + int(length)
        record = data[space + 1:end]
        key, sep, value = record[:-1].partition(b"=")
        if end > len(data) or not record.endswith(b"\n") or not sep or not key:
            raise ValueError("a damaged PAX record")
        name = _text(key)
        text = _text(value)
        if name in ("GNU.sparse.offset", "GNU.sparse.numbytes"):
            if (name == "GNU.sparse.offset") != (len(sparse00) % 2 == 0):
                raise ValueError("a damaged PAX sparse map")
            sparse00.append(_decimal(text, "sparse map"))
        pax[name] = text
        at = end

