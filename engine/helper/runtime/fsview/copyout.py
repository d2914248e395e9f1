"""Looking and copying out: stat, list, read, and a tar of a file or tree (get).

Trees are walked by directory fd, never through a symlink; kernel filesystems
(/proc, /sys, ...) of a running container can be listed, not read.
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
import tarfile
from typing import IO, Any

from engine.helper.runtime.fsview.lookup import (
    CHUNK,
    IN_ROOT,
    ONE_NAME,
    FsError,
    Reply,
    View,
    entry_json,
    lookup,
    open_regular,
    openat2,
    os_error,
)

__all__ = ["op_get", "op_list", "op_read", "op_stat"]


def op_stat(view: View, req: dict[str, Any], reply: Reply) -> None:
    path = req["path"]
    found = lookup(view, path, req["follow"])
    found.close()
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st,
                                                found.link_target)})


def op_list(view: View, req: dict[str, Any], reply: Reply, out: IO[bytes]) -> None:
    path = req["path"]
    found = lookup(view, path, True)
    found.close()
    if not stat.S_ISDIR(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is not a directory")
    try:
        fd = openat2(view.root, path, os.O_RDONLY | os.O_DIRECTORY, IN_ROOT)
    except OSError as exc:
        raise os_error(exc, path) from None
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st)})
    count = 0
    try:
        for name in sorted(os.listdir(fd)):
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                link = os.readlink(name, dir_fd=fd) if stat.S_ISLNK(st.st_mode) else ""
            except OSError:
                continue  # gone since the listing (a running container, /proc)
            entry = entry_json(name, posixpath.join(path, name), st, link)
            out.write(json.dumps(entry).encode() + b"\n")
            count += 1
    finally:
        os.close(fd)
    out.flush()
    reply.send({"ok": True, "count": count})


def op_read(view: View, req: dict[str, Any], reply: Reply, out: IO[bytes]) -> None:
    path = req["path"]
    found = lookup(view, path, True)
    try:
        fd = open_regular(view, path, found, True)
    finally:
        found.close()
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st)})
    left = req["limit"]
    try:
        while left > 0:
            chunk = os.read(fd, min(left, CHUNK))
            if not chunk:
                break
            out.write(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    out.flush()
    reply.send({"ok": True, "bytes": req["limit"] - left})


class _Exactly:
    """A file's bytes as its tar header promised: zero-padded if it shrank meanwhile."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.left, self.eof = fd, size, False

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        parts: list[bytes] = []
        got = 0
        while got < n and not self.eof:
            chunk = os.read(self.fd, n - got)
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            got += len(chunk)
        self.left -= n
        return b"".join(parts) + bytes(n - got)


class _Archiver:
    """Writes entries of the container's tree to a tar stream, walking by fd."""

    def __init__(self, view: View, tar: tarfile.TarFile) -> None:
        self.view = view
        self.tar = tar
        self.links: dict[tuple[int, int], str] = {}
        self.count = 0

    def add(self, dir_fd: int, name: str, arcname: str, st: os.stat_result,
            reopen: tuple[int, str] | None = None) -> None:
        """One entry; ``reopen`` is (root, path) to open a followed top-level file by path."""
        info = tarfile.TarInfo(arcname)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = info.gname = ""
        info.mtime = st.st_mtime_ns / 1e9
        mode = st.st_mode
        if stat.S_ISSOCK(mode):
            return  # a tar cannot hold a socket
        if stat.S_ISDIR(mode):
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(name, dir_fd=dir_fd)
        elif stat.S_ISFIFO(mode):
            info.type = tarfile.FIFOTYPE
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self.links:
                info.type = tarfile.LNKTYPE
                info.linkname = self.links[key]
            else:
                self._add_file(dir_fd, name, info, st, reopen)
                if st.st_nlink > 1:
                    self.links[key] = arcname
                return
        self.tar.addfile(info)
        self.count += 1

    def _add_file(self, dir_fd: int, name: str, info: tarfile.TarInfo, st: os.stat_result,
                  reopen: tuple[int, str] | None) -> None:
        flags = os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK
        try:
            if reopen is not None:
                fd = openat2(reopen[0], reopen[1], flags, IN_ROOT)
            else:
                fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError:
            return  # gone since it was listed
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(
                    now.st_mode):
                return
            info.size = 0 if now.st_dev in self.view.kernel_devs else now.st_size
            self.tar.addfile(info, _Exactly(fd, info.size))
            self.count += 1
        finally:
            os.close(fd)

    def tree(self, top: int, arcname: str) -> None:
        """Everything under the directory ``top`` (an fd), named below ``arcname``."""
        pending: list[tuple[str, str]] = [("", arcname)]  # (path below top, arcname)
        while pending:
            rel, arc = pending.pop()
            try:
                fd = openat2(top, rel, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, ONE_NAME)
            except OSError:
                continue  # replaced by something else since it was listed
            try:
                later = []
                for name in sorted(os.listdir(fd)):
                    try:
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except OSError:
                        continue
                    child = name if arc in ("", ".") else f"{arc}/{name}"
                    self.add(fd, name, child, st)
                    if stat.S_ISDIR(st.st_mode) and st.st_dev not in self.view.kernel_devs:
                        later.append((posixpath.join(rel, name) if rel else name, child))
                pending.extend(reversed(later))
            finally:
                os.close(fd)


def op_get(view: View, req: dict[str, Any], reply: Reply, out: IO[bytes]) -> None:
    path, name = req["path"], req["name"]
    found = lookup(view, path, req["follow"])
    try:
        if stat.S_ISREG(found.st.st_mode) and found.st.st_dev in view.kernel_devs:
            raise FsError("invalid_argument", f"{path} is on a kernel filesystem; read it "
                          "with exec inside the container")
        reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st,
                                                    found.link_target)})
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            archiver = _Archiver(view, tar)
            followed = req["follow"] or not found.name
            if stat.S_ISDIR(found.st.st_mode):
                if name != ".":
                    archiver.add(found.parent, found.name, name, found.st)
                try:
                    top = openat2(view.root, path, os.O_PATH | os.O_DIRECTORY, IN_ROOT) \
                        if followed else openat2(found.parent, found.name,
                                                 os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW,
                                                 ONE_NAME)
                except OSError as exc:
                    raise os_error(exc, path) from None
                try:
                    archiver.tree(top, name)
                finally:
                    os.close(top)
            else:
                archiver.add(found.parent, found.name, name, found.st,
                             reopen=(view.root, path) if followed else None)
    finally:
        found.close()
    out.flush()
    reply.send({"ok": True, "count": archiver.count})
