"""What an image's filesystem holds, read from its layer blobs in the user's own store.

A build needs to know a little about the image it builds on without running it:
whether COPY's destination is a directory, whether WORKDIR exists, the names in
/etc/passwd and /etc/group for ``--chown``, and for ``COPY --from`` the files of
another image. The layer tars are read in order, whiteouts and opaque
directories applied, into one index of paths; file contents are read back from
the layer that last wrote them. Nothing is unpacked on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from engine.images.blobs import BlobStore
from engine.images.importer import decompressed
from engine.images.model import Layer

__all__ = ["FileIndex", "IndexEntry", "open_layer"]

_MAX_READ = 16 << 20  # /etc/passwd and the like; never a whole image
#: Each layer's tar headers, by diff_id, for this process (layers never change).
_MEMBERS: dict[str, list[list[Any]]] = {}


@dataclass(frozen=True)
class IndexEntry:
    path: str  # "etc/passwd": relative, no trailing slash
    type: bytes  # tarfile type: REGTYPE, DIRTYPE, SYMTYPE, LNKTYPE...
    mode: int
    uid: int
    gid: int
    size: int
    mtime: float
    linkname: str
    layer: int  # the index of the layer that wrote it

    @property
    def is_dir(self) -> bool:
        return self.type == tarfile.DIRTYPE


def open_layer(blobs: BlobStore, digest: str) -> IO[bytes]:
    """The layer's tar stream, whatever its compression."""
    return cast("IO[bytes]", decompressed(blobs.open(digest)))


def _clean(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


class FileIndex:
    """The paths of an image's filesystem (the overlay of its layers)."""

    def __init__(self, blobs: BlobStore, layers: Iterable[Layer],
                 cache_dir: Path | None = None) -> None:
        self.blobs = blobs
        self.layers = list(layers)
        self.cache_dir = cache_dir
        self.entries: dict[str, IndexEntry] = {}
        for number, layer in enumerate(self.layers):
            self._apply(number, self._members(layer))

    def _members(self, layer: Layer) -> list[list[Any]]:
        """The layer's tar headers, read once and kept by diff_id (a rebuild reads no
        layer again: the cache of a build is only as quick as this)."""
        cached = _MEMBERS.get(layer.diff_id)
        if cached is not None:
            return cached
        path = self.cache_dir / layer.diff_id.removeprefix("sha256:") if self.cache_dir \
            else None
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                members: list[list[Any]] = json.loads(path.read_text())
                _MEMBERS[layer.diff_id] = members
                return members
        members = []
        with open_layer(self.blobs, layer.digest) as stream, \
                tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                members.append([member.name, member.type.decode("latin-1"), member.mode,
                                member.uid, member.gid, member.size, member.mtime,
                                member.linkname])
        _MEMBERS[layer.diff_id] = members
        if path is not None:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_suffix(".tmp")
                temporary.write_text(json.dumps(members))
                os.replace(temporary, path)
        return members

    def _apply(self, number: int, members: list[list[Any]]) -> None:
        for name, kind, mode, uid, gid, size, mtime, linkname in members:
            path = _clean(name)
            base = posixpath.basename(path)
            parent = posixpath.dirname(path)
            if base == ".wh..wh..opq":
                self._drop_under(parent, number)
                continue
            if base.startswith(".wh."):
                gone = posixpath.join(parent, base[4:])
                self.entries.pop(gone, None)
                self._drop_under(gone, number + 1)
                continue
            if not path:
                continue
            type_ = kind.encode("latin-1")
            old = self.entries.get(path)
            if old is not None and old.is_dir and type_ != tarfile.DIRTYPE:
                self._drop_under(path, number + 1)
            self.entries[path] = IndexEntry(
                path, type_, mode, uid, gid, size, mtime,
                _clean(linkname) if type_ == tarfile.LNKTYPE else linkname, number)

    def _drop_under(self, directory: str, before: int) -> None:
        """Forget what layers below ``before`` put under ``directory``."""
        prefix = directory + "/" if directory else ""
        for path in [p for p, e in self.entries.items()
                     if p.startswith(prefix) and e.layer < before]:
            del self.entries[path]

    def resolve(self, path: str, *, follow_last: bool = True, depth: int = 0) -> str:
        """``path`` with symlinks resolved inside the image's root."""
        parts = [p for p in _clean(path).split("/") if p]
        current = ""
        for i, part in enumerate(parts):
            candidate = posixpath.join(current, part) if current else part
            entry = self.entries.get(candidate)
            last = i == len(parts) - 1
            if entry is not None and entry.type == tarfile.SYMTYPE and \
                    (follow_last or not last) and depth < 40:
                target = entry.linkname
                joined = target if target.startswith("/") else posixpath.join(current, target)
                candidate = self.resolve(joined, depth=depth + 1)
            current = candidate
        return current

    def get(self, path: str) -> IndexEntry | None:
        return self.entries.get(self.resolve(path))

    def is_dir(self, path: str) -> bool:
        clean = self.resolve(path)
        if clean == "":
            return True
        entry = self.entries.get(clean)
        return entry is not None and entry.is_dir

    def read(self, path: str) -> bytes | None:
        """A regular file's content, or None when there is none at ``path``."""
        entry = self.get(path)
        if entry is None:
            return None
        if entry.type == tarfile.LNKTYPE:
            entry = self.entries.get(entry.linkname)
            if entry is None:
                return None
        if entry.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or entry.size > _MAX_READ:
            return None
        found: list[bytes] = []
        self.stream({entry.path}, lambda _m, data: found.append(data.read()))
        return found[0] if found else None

    def under(self, path: str) -> list[IndexEntry]:
        """The entry at ``path`` (resolved) and everything beneath it, parents first."""
        root = self.resolve(path)
        prefix = root + "/" if root else ""
        return sorted((e for p, e in self.entries.items() if p == root or
                       p.startswith(prefix)), key=lambda e: e.path)

    def stream(self, paths: set[str],
               handle: Callable[[IndexEntry, IO[bytes]], None]) -> None:
        """Call ``handle`` with the content of each regular file in ``paths``."""
        by_layer: dict[int, set[str]] = {}
        for path in paths:
            entry = self.entries.get(path)
            if entry is not None and entry.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
                by_layer.setdefault(entry.layer, set()).add(path)
        for number, wanted in sorted(by_layer.items()):
            with open_layer(self.blobs, self.layers[number].digest) as stream, \
                    tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    path = _clean(member.name)
                    if path in wanted and member.isfile():
                        data = tar.extractfile(member)
                        if data is not None:
                            handle(self.entries[path], data)
