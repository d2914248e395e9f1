"""Writing a layer tar the way image layers are written: PAX, relative names, explicit owners.

COPY and ADD make their layers here, in the user's process, from entries that
say exactly what the image gets (path, type, mode, owner, time): the owner is
what the Dockerfile asked for (root by default), never the id the file had on
the host, so the layer is the same whoever builds it.
"""

from __future__ import annotations

import hashlib
import tarfile
from dataclasses import dataclass
from typing import IO

__all__ = ["LayerWriter", "Meta"]


@dataclass(frozen=True)
class Meta:
    mode: int
    uid: int = 0
    gid: int = 0
    mtime: float = 0.0


class LayerWriter:
    """A tar written to ``out``; ``count`` says how many entries it has."""

    def __init__(self, out: IO[bytes]) -> None:
        self._tar = tarfile.open(  # noqa: SIM115  # closed by close()
            fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self.count = 0
        self._written: set[str] = set()

    def _info(self, path: str, kind: bytes, meta: Meta) -> tarfile.TarInfo:
        name = path.strip("/")
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = meta.mode & 0o7777
        info.uid, info.gid = meta.uid, meta.gid
        info.uname = info.gname = ""
        info.mtime = int(meta.mtime)
        return info

    def has(self, path: str) -> bool:
        return path.strip("/") in self._written

    def _add(self, info: tarfile.TarInfo, data: IO[bytes] | None = None) -> None:
        self._tar.addfile(info, data)
        self._written.add(info.name)
        self.count += 1

    def directory(self, path: str, meta: Meta) -> None:
        if path.strip("/") and not self.has(path):
            self._add(self._info(path, tarfile.DIRTYPE, meta))

    def file(self, path: str, meta: Meta, data: IO[bytes], size: int) -> None:
        info = self._info(path, tarfile.REGTYPE, meta)
        info.size = size
        self._add(info, data)

    def symlink(self, path: str, target: str, meta: Meta) -> None:
        info = self._info(path, tarfile.SYMTYPE, Meta(0o777, meta.uid, meta.gid, meta.mtime))
        info.linkname = target
        self._add(info)

    def hardlink(self, path: str, target: str, meta: Meta) -> None:
        info = self._info(path, tarfile.LNKTYPE, meta)
        info.linkname = target.strip("/")
        self._add(info)

    def close(self) -> None:
        self._tar.close()


def file_digest(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()
