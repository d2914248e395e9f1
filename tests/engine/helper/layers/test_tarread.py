"""The layer's tar reader against tarfile's reading of the same tars, and its refusals
(whole unpacks of damaged, truncated and sparse tars: test_streams.py)."""

from __future__ import annotations

import io
import random
import tarfile

import pytest

from engine.helper.layers.tarread import BLOCK, Entry, TarFormatError, TarReader


class Pieces:
    """A decoded stream handing the tar over in pieces of random sizes."""

    def __init__(self, data: bytes, seed: int = 1) -> None:
        self.data = data
        self.at = 0
        self.rng = random.Random(seed)

    def read(self, size: int = -1, /) -> bytes:
        step = self.rng.choice([1, 7, 511, 512, 513, 4096, 70_001])
        piece = self.data[self.at:self.at + step]
        self.at += len(piece)
        return piece


def _info(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mtime = 1_700_000_000
    info.mode = 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def _tar(fmt: int, members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for info, data in members:
            if info.isreg():
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def _read_all(reader: TarReader) -> list[tuple[object, ...]]:
    seen = []
    while (entry := reader.next()) is not None:
        content = reader.extractfile(entry)
        data = b""
        while content is not None and (piece := content.read(1000)):
            data += bytes(piece)
        seen.append((*_fields(entry), data))
    return seen


def _fields(entry: Entry | tarfile.TarInfo) -> tuple[object, ...]:
    return (entry.name, entry.type if entry.type != b"\0" else b"0", entry.mode, entry.uid,
            entry.gid, entry.size, int(entry.mtime), entry.linkname,
            entry.devmajor, entry.devminor, dict(entry.pax_headers))


def _by_tarfile(tar: bytes) -> list[tuple[object, ...]]:
    seen = []
    with tarfile.open(fileobj=io.BytesIO(tar), encoding="utf-8",
                      errors="surrogateescape") as opened:
        for member in opened:
            content = opened.extractfile(member) if member.isreg() else None
            data = content.read() if content is not None else b""
            seen.append((*_fields(member), data))
    return seen


MEMBERS = [
    (_info("etc", tarfile.DIRTYPE, mode=0o755), b""),
    (_info("etc/passwd"), b"root:x:0:0::/root:/bin/sh\n"),
    (_info("usr/lib/" + "deep/" * 40 + "file.so", mode=0o755), bytes(range(256)) * 9),
    (_info("l" * 120, tarfile.SYMTYPE, linkname="t" * 150), b""),
    (_info("hard", tarfile.LNKTYPE, linkname="etc/passwd"), b""),
    (_info("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3), b""),
    (_info("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0), b""),
    (_info("fifo", tarfile.FIFOTYPE), b""),
    (_info("owned", uid=1000, gid=1000, mode=0o4755), b"x" * 513),
    (_info("big-ids", uid=3_000_000_000, gid=0o7777777 + 1), b"y"),
    (_info("empty"), b""),
    (_info("caf\u00e9-\udcff"), b"bytes of a name that is not UTF-8"),
]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT],
                         ids=["gnu", "pax"])
def test_reads_what_tarfile_reads(fmt: int) -> None:
    tar = _tar(fmt, MEMBERS)
    for seed in range(5):
        assert _read_all(TarReader(Pieces(tar, seed))) == _by_tarfile(tar)


def test_ustar_prefix_and_an_old_tars_directory() -> None:
    long_dir = "a" * 90 + "/" + "b" * 50
    tar = bytearray(_tar(tarfile.USTAR_FORMAT, [(_info(long_dir + "/file"), b"data")]))
    old_dir = _info("olddir/", tarfile.AREGTYPE).tobuf(tarfile.USTAR_FORMAT)
    tar[:0] = old_dir  # "olddir/" as a regular file of a V7 tar: a directory
    entries = _read_all(TarReader(Pieces(bytes(tar))))
    assert [(name, kind) for name, kind, *_ in entries] == [
        ("olddir", b"5"), (long_dir + "/file", b"0")]
    assert entries[1][-1] == b"data"


def test_pax_records_override_the_header_and_a_global_header_is_skipped() -> None:
    member = _info("short", uid=5, gid=6)
    member.pax_headers = {"path": "a/much/longer/name", "uid": "70000", "gid": "80000",
                          "mtime": "1700000000.123456789", "SCHILY.xattr.user.k": "v"}
    glob = tarfile.TarInfo("global")
    glob.type = tarfile.XGLTYPE
    glob.pax_headers = {"path": "everything/renamed", "uid": "1"}
    buffer = glob.tobuf(tarfile.PAX_FORMAT) + _tar(tarfile.PAX_FORMAT, [(member, b"z")])
    reader = TarReader(Pieces(buffer))
    entry = reader.next()
    assert entry is not None
    assert (entry.name, entry.uid, entry.gid) == ("a/much/longer/name", 70000, 80000)
    assert entry.pax_headers["mtime"] == "1700000000.123456789"
    assert entry.pax_headers["SCHILY.xattr.user.k"] == "v"
    assert "everything/renamed" not in entry.pax_headers.values()
    assert reader.next() is None


def test_a_tar_may_end_where_a_header_would_start_or_after_its_last_data() -> None:
    tar = _tar(tarfile.USTAR_FORMAT, [(_info("a"), b"1" * 700), (_info("b"), b"2" * 3)])
    second = 512 + 1024  # a's header and data
    # Nothing at all, a header's start, b's data without its padding.
    for end, entries in ((0, 0), (second, 1), (second + 512 + 3, 2)):
        assert len(_read_all(TarReader(Pieces(tar[:end])))) == entries
    for end in (100, 512 + 699, 512 + 701, second + 300, second + 512 + 4):
        with pytest.raises(TarFormatError, match=r"truncated|not a tar"):
            _read_all(TarReader(Pieces(tar[:end])))


def _header(**fields: object) -> bytearray:
    return bytearray(_info("f", **fields).tobuf(tarfile.USTAR_FORMAT))


def _resum(block: bytearray) -> bytes:
    block[148:156] = b" " * 8
    block[148:155] = b"%06o\0" % sum(block)
    return bytes(block)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b.__setitem__(0, ord("g")), "bad checksum"),
        (lambda b: (b.__setitem__(slice(124, 136), b"00000000-12\0"), _resum(b)), "size"),
        (lambda b: (b.__setitem__(slice(124, 136), b"\xff" * 12), _resum(b)), "negative size"),
        (lambda b: (b.__setitem__(slice(100, 108), b"0000789\0"), _resum(b)), "invalid"),
    ],
    ids=["checksum", "size-sign", "negative-base256", "not-octal"],
)
def test_damaged_headers_are_refused(damage: object, message: str) -> None:
    good = _tar(tarfile.USTAR_FORMAT, [(_info("first"), b"")])[:BLOCK]
    block = _header(size=0)
    damage(block)  # type: ignore[operator]
    with pytest.raises(TarFormatError, match=message):
        _read_all(TarReader(Pieces(good + bytes(block) + bytes(1024))))


def test_base_256_numbers_are_read() -> None:
    block = _header()
    block[108:116] = b"\x80" + (2**40).to_bytes(7, "big")  # uid
    reader = TarReader(Pieces(_resum(block) + bytes(1024)))
    entry = reader.next()
    assert entry is not None and entry.uid == 2**40


def test_extended_headers_are_bounded_and_must_describe_an_entry() -> None:
    huge = tarfile.TarInfo("././@PaxHeader")
    huge.type = tarfile.XHDTYPE
    huge.size = (1 << 20) + 1
    with pytest.raises(TarFormatError, match="extended header"):
        TarReader(Pieces(huge.tobuf(tarfile.USTAR_FORMAT) + bytes(huge.size + 1024))).next()
    member = _info("x")
    member.pax_headers = {"path": "y" * 200}
    tar = _tar(tarfile.PAX_FORMAT, [(member, b"")])
    pax_end = 1024  # the PAX header and its records, then the member's header
    with pytest.raises(TarFormatError, match="damaged entry header"):
        _read_all(TarReader(Pieces(tar[:pax_end] + bytes(1024))))
    broken = tar.replace(b" path=", b" path ")
    with pytest.raises(TarFormatError, match="PAX record"):
        _read_all(TarReader(Pieces(broken)))


def _pax_sparse(records: dict[str, str], data: bytes) -> bytes:
    member = _info("GNUSparseFile.0/holey", size=len(data))
    member.pax_headers = records
    return _tar(tarfile.PAX_FORMAT, [(member, data)])


def test_pax_sparse_maps_give_the_whole_file() -> None:
    # 0.1: the map in a record; holes read back as zeros.
    tar = _pax_sparse({"GNU.sparse.map": "3,2,10,1", "GNU.sparse.size": "12",
                       "GNU.sparse.name": "holey"}, b"abZ")
    entries = _read_all(TarReader(Pieces(tar)))
    assert entries[0][0] == "holey" and entries[0][-1] == b"\0\0\0ab\0\0\0\0\0Z\0"
    # 1.0: the map at the head of the data, in a block of its own.
    head = b"2\n3\n2\n10\n1\n".ljust(BLOCK, b"\0")
    tar = _pax_sparse({"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                       "GNU.sparse.realsize": "12", "GNU.sparse.name": "holey"}, head + b"abZ")
    assert _read_all(TarReader(Pieces(tar)))[0][-1] == b"\0\0\0ab\0\0\0\0\0Z\0"


@pytest.mark.parametrize("sparse_map", ["3,2,10,5", "10,1,3,2", "3,2,10", "3,9,10,1"],
                         ids=["past-the-end", "out-of-order", "odd", "more-than-the-data"])
def test_bad_sparse_maps_are_refused(sparse_map: str) -> None:
    tar = _pax_sparse({"GNU.sparse.map": sparse_map, "GNU.sparse.size": "12"}, b"abZ")
    with pytest.raises(TarFormatError, match="sparse map"):
        _read_all(TarReader(Pieces(tar)))
