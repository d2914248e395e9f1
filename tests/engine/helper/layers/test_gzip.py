"""Gzip layers as the helper reads them (engine/helper/layers/streams.py's GzipStream):
members with every optional header field, read in pieces of any size; lengths, flags and
ends that are wrong; a CRC-32 left to the tar's digest."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from engine.errors import DigestMismatch, LayerError
from engine.helper.layers import layer_path, unpack_layer
from tests.engine.helper.layers.test_layers import temp_leftovers
from tests.layer_corpus import digest, file, tar_bytes

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="unpacking layers needs root (mknod, chown)"),
]


def member(data: bytes, *, extra: bytes = b"", name: bytes = b"", comment: bytes = b"",
           header_crc: bool = False, flags: int = 0, crc: int | None = None,
           length: int | None = None) -> bytes:
    """One gzip member (RFC 1952) of ``data``, with the optional fields asked for."""
    flags |= (4 if extra else 0) | (8 if name else 0) | (16 if comment else 0) | \
        (2 if header_crc else 0)
    head = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\xff"
    if extra:
        head += struct.pack("<H", len(extra)) + extra
    head += (name + b"\0" if name else b"") + (comment + b"\0" if comment else b"")
    if header_crc:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(data) if crc is None else crc,
                          len(data) if length is None else length)
    return head + body + trailer


class Trickle:
    """A blob read at most ``step`` bytes at a time, as a slow pipe gives it."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def read(self, size: int = -1, /) -> bytes:
        size = self.step if size < 0 else min(size, self.step)
        self.at += size
        return self.data[self.at - size:self.at]

    def seekable(self) -> bool:
        return False


TAR = tar_bytes([file("f", b"x" * 1000)])


def _tar() -> bytes:
    return tar_bytes([file(f"f{i}", os.urandom(3000) if i % 2 else b"text " * 900)
                      for i in range(8)])


@pytest.mark.parametrize("step", [1 << 20, 4096, 7, 1])
def test_members_with_every_optional_header_field(layers: Path, step: int) -> None:
    tar = _tar()
    third = len(tar) // 3
    blob = (member(tar[:third], extra=b"\x01\x02" * 300, name=b"layer.tar")
            + member(tar[third:2 * third], comment=b"a comment " * 50, header_crc=True)
            + member(tar[2 * third:], extra=b"x", name=b"n", comment=b"c", header_crc=True))
    size = unpack_layer(Trickle(blob, step), layers, diff_id=digest(tar), digest=digest(blob))
    assert size == 4 * 3000 + 4 * 4500
    assert (layer_path(layers, digest(tar)) / "f7").stat().st_size == 3000


def test_an_empty_member_between_others(layers: Path) -> None:
    tar = _tar()
    blob = member(tar[:5000]) + member(b"") + member(tar[5000:])
    assert unpack_layer(Trickle(blob, 1000), layers, diff_id=digest(tar)) > 0


def test_the_crc_is_left_to_the_tars_digest(layers: Path) -> None:
    """A wrong CRC-32 is not looked at: the diff_id covers every byte it would have."""
    tar = _tar()
    blob = member(tar, crc=0)
    assert unpack_layer(Trickle(blob, 1 << 20), layers, diff_id=digest(tar)) > 0
    layers = layers.parent / "again"
    other = tar.replace(b"text ", b"Text ", 1)
    changed = member(other, crc=zlib.crc32(tar))  # its CRC says: the tar of the diff_id
    with pytest.raises(DigestMismatch, match="diff_id"):
        unpack_layer(Trickle(changed, 1 << 20), layers, diff_id=digest(tar))


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (member(TAR, length=len(TAR) - 1), "incorrect length check"),
        (member(TAR, flags=0x20), "incorrect header check"),
        (member(TAR)[:-4], "ends in the middle of its gzip stream"),
        (member(TAR, name=b"a long name")[:15], "ends in the middle of its gzip stream"),
        (member(TAR, extra=b"e" * 100)[:50], "ends in the middle of its gzip stream"),
        (member(TAR) + b"\x1f\x8b\x08\0", "ends in the middle of its gzip stream"),
        (member(TAR) + b"\x1f\x8b\x07" + bytes(7), "incorrect header check"),
        (member(TAR)[:10] + b"\xff" * 20, "not valid gzip"),
    ],
    ids=["length", "reserved-flag", "no-trailer", "cut-name", "cut-extra", "cut-header",
         "not-deflate", "bad-deflate"],
)
def test_broken_members_are_refused(layers: Path, blob: bytes, message: str) -> None:
    for step in (1 << 20, 3):
        with pytest.raises(LayerError, match=message):
            unpack_layer(Trickle(blob, step), layers, diff_id="sha256:" + "1" * 64)
    assert os.listdir(layers / "sha256") == []
    assert temp_leftovers(layers) == []
