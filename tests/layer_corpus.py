"""Layer tars built in memory for the unpacker tests, hostile ones included.

Members are plain ``tarfile.TarInfo`` objects so a test can write any name,
link or mode a real (or malicious) registry could serve.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass

import zstandard

__all__ = [
    "HOST_PROBE",
    "MALICIOUS",
    "REPLACING",
    "Case",
    "Member",
    "blk",
    "chr_",
    "compress",
    "digest",
    "dir_",
    "fifo",
    "file",
    "hard",
    "sym",
    "tar_bytes",
]

Member = tuple[tarfile.TarInfo, bytes | None]

MTIME = 1_600_000_000


def _info(name: str, kind: bytes, **kw: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mtime = MTIME
    info.mode = 0o644
    for key, value in kw.items():
        if key == "xattrs":
            assert isinstance(value, dict)
            info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in value.items()}
        else:
            setattr(info, key, value)
    return info


def file(name: str, data: bytes = b"", **kw: object) -> Member:
    info = _info(name, tarfile.REGTYPE, **kw)
    info.size = len(data)
    return info, data


def dir_(name: str, **kw: object) -> Member:
    kw.setdefault("mode", 0o755)
    return _info(name, tarfile.DIRTYPE, **kw), None


def sym(name: str, target: str, **kw: object) -> Member:
    kw.setdefault("mode", 0o777)
    return _info(name, tarfile.SYMTYPE, linkname=target, **kw), None


def hard(name: str, target: str, **kw: object) -> Member:
    return _info(name, tarfile.LNKTYPE, linkname=target, **kw), None


def chr_(name: str, major: int, minor: int, **kw: object) -> Member:
    return _info(name, tarfile.CHRTYPE, devmajor=major, devminor=minor, **kw), None


def blk(name: str, major: int, minor: int, **kw: object) -> Member:
    return _info(name, tarfile.BLKTYPE, devmajor=major, devminor=minor, **kw), None


def fifo(name: str, **kw: object) -> Member:
    return _info(name, tarfile.FIFOTYPE, **kw), None


def tar_bytes(members: list[Member]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def compress(tar: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(tar, mtime=0)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(tar)
    assert how == "plain"
    return tar


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Case:
    id: str
    members: list[Member]


# The absolute path of a directory outside the layer store, which hostile tars
# aim at: tests put their sentinel there (a placeholder replaced per test).
OUTSIDE = "@OUTSIDE@"
# A file name under /etc that a broken unpacker would create (tests check it does not).
HOST_PROBE = "skiff-layer-test-must-not-exist"


def _cases() -> list[Case]:
    return [
        Case("dotdot", [file("../escape", b"x")]),
        Case("dotdot-deep", [file("../../../escape", b"x")]),
        Case("absolute", [file("/abs/path", b"x")]),
        Case("absolute-outside", [file(f"{OUTSIDE}/abs", b"x")]),
        Case("inner-dotdot", [dir_("a"), file("a/../../x", b"x")]),
        Case("symlink-abs-parent", [sym("evil", OUTSIDE), file("evil/passwd", b"x")]),
        # A real host directory, with a name that exists nowhere: harmless if ever broken.
        Case("symlink-etc-parent", [sym("evil", "/etc"), file(f"evil/{HOST_PROBE}", b"x")]),
        Case("symlink-dotdot-parent", [sym("evil", ".."), file("evil/x", b"x")]),
        Case(
            "symlink-chain",
            [sym("a", "b"), sym("b", "c"), sym("c", "../../.."), file("a/x", b"x")],
        ),
        Case("symlink-chain-abs", [sym("a", "b"), sym("b", OUTSIDE), dir_("a/sub")]),
        Case("symlink-parent-deep", [dir_("d"), sym("d/e", OUTSIDE), file("d/e/f/g", b"x")]),
        Case("hardlink-dotdot", [hard("h", "../outside")]),
        Case("hardlink-abs", [hard("h", "/etc/passwd")]),
        Case("hardlink-abs-outside", [hard("h", f"{OUTSIDE}/keep")]),
        Case("hardlink-missing", [hard("h", "nothing")]),
        Case("hardlink-through-symlink", [sym("d", OUTSIDE), hard("h", "d/keep")]),
        Case(
            "hardlink-through-symlink-dir",
            [dir_("real"), file("real/keep", b"x"), sym("d", "real"), hard("h", "d/keep")],
        ),
        Case("hardlink-to-dir", [dir_("d"), hard("h", "d")]),
        Case("hardlink-to-whiteout", [file(".wh.gone"), hard("h", "gone")]),
        Case("device-dotdot", [chr_("../dev/x", 1, 3)]),
        Case("fifo-dotdot", [fifo("a/../../f")]),
        Case("whiteout-dotdot", [dir_("a"), file("a/.wh...")]),
        Case("whiteout-dot", [file(".wh.")]),
        Case("whiteout-under-symlink", [sym("evil", OUTSIDE), file("evil/.wh.keep")]),
        Case("opaque-under-symlink", [sym("evil", OUTSIDE), file("evil/.wh..wh..opq")]),
        Case("root-as-symlink", [sym("./", OUTSIDE)]),
        Case("root-as-file", [file(".", b"x")]),
        Case("file-under-file", [file("f", b"x"), file("f/g", b"y")]),
    ]


MALICIOUS: list[Case] = _cases()

# Entries that replace earlier ones: docker lets the later entry win. They must
# replace the earlier entry itself, never what it points at.
REPLACING: list[Case] = [
    Case("file-replaces-symlink", [sym("evil", f"{OUTSIDE}/keep"), file("evil", b"mine")]),
    Case("dir-replaces-symlink", [sym("evil", OUTSIDE), dir_("evil"), file("evil/keep", b"m")]),
    Case("file-replaces-dir", [dir_("d"), sym("d/s", OUTSIDE), file("d", b"mine")]),
    Case("symlink-replaces-dir", [dir_("d"), file("d/f", b"x"), sym("d", OUTSIDE)]),
    Case(
        "file-replaces-hardlink",
        [sym("s", f"{OUTSIDE}/keep"), hard("h", "s"), file("h", b"mine")],
    ),
    Case("device-replaces-symlink", [sym("n", f"{OUTSIDE}/keep"), chr_("n", 1, 3)]),
    Case("whiteout-replaces-symlink", [sym("n", f"{OUTSIDE}/keep"), file(".wh.n")]),
]
