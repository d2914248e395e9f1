"""Copying in (put): a tar unpacked under a directory of the container.

Every directory is resolved in the container's root (engine/helper/rootpath.py,
the resolver the layer unpacker shares): a symlink in the container is followed
as the container would, never out of it. Set-id bits and device files are kept
for root's containers only.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from typing import IO, Any

from engine.helper.rootpath import Blocked, RootDir, split_name
from engine.helper.runtime.fsview.lookup import (
    CHUNK,
    IN_ROOT,
    FsError,
    Reply,
    View,
    entry_json,
    lookup,
    openat2,
    os_error,
)

__all__ = ["op_put"]


def _parts(name: str) -> list[str]:
    """A member's path as components below the destination; refuses climbing out."""
    try:
        return list(split_name(name, absolute_ok=True))
    except Blocked as exc:
        if exc.reason == "nul":
            raise FsError("invalid_argument", f"refusing the archive member {name!r}: it "
                          "holds a NUL byte") from None
        raise FsError("invalid_argument", f"refusing the archive member {name!r}: it climbs "
                      "out of the destination") from None


class _Extractor:
    """Unpacks a tar under a directory of the container, resolving every path in its root."""

    def __init__(self, view: View, dest: str, archive: bool, caller_uid: int) -> None:
        self.view = view
        self.dest = dest
        self.dest_parts = split_name(dest, absolute_ok=True)  # clean: the helper made it
        self.tree = RootDir(view.root, follow_links=True)  # symlinks stay in the container
        self.archive = archive
        self.caller_uid = caller_uid
        self.dir_times: list[tuple[str, int]] = []
        self.count = 0

    def _dir(self, parts: list[str]) -> int:
        """O_PATH fd of dest/parts, creating missing directories as tar does."""
        return self.tree.open_dir([*self.dest_parts, *parts], create=True,
                                  existing=len(self.dest_parts))

    def _owner(self, member: tarfile.TarInfo) -> tuple[int, int]:
        return (member.uid, member.gid) if self.archive else (0, 0)

    def _mode(self, member: tarfile.TarInfo) -> int:
        mode = member.mode & 0o7777
        if self.caller_uid != 0 and not member.isdir():
            # A set-id file in a container dir is one path away from the host.
            mode &= ~(stat.S_ISUID | stat.S_ISGID)
        return mode

    def extract(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = _parts(member.name)
        if not parts:
            return  # the destination itself
        shown = posixpath.join(self.dest, *parts)
        parent = self._dir(parts[:-1])
        try:
            st = os.fstat(parent)
            if st.st_dev in self.view.kernel_devs:
                raise FsError("invalid_argument", f"cannot write {shown}: it is on a kernel "
                              "filesystem")
            self._extract_in(tar, member, parent, parts[-1], shown)
            self.count += 1
        finally:
            os.close(parent)

    def _extract_in(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parent: int,
                    name: str, shown: str) -> None:
        try:
            existing: os.stat_result | None = os.stat(name, dir_fd=parent,
                                                      follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        is_dir = existing is not None and stat.S_ISDIR(existing.st_mode)
        uid, gid = self._owner(member)
        if member.isdir():
            if existing is not None and not is_dir:
                raise FsError("invalid_argument", f'cannot overwrite non-directory "{shown}" '
                              "with a directory")
            if existing is None:
                os.mkdir(name, 0o700, dir_fd=parent)
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=parent)
            try:
                os.fchown(fd, uid, gid)
                os.fchmod(fd, self._mode(member))
            finally:
                os.close(fd)
            self.dir_times.append((shown, int(member.mtime * 1e9)))
            return
        if is_dir:
            raise FsError("invalid_argument", f'cannot overwrite directory "{shown}" with a '
                          "non-directory")
        if (member.ischr() or member.isblk()) and self.caller_uid != 0:
            raise FsError("invalid_argument", f"{shown}: only root may copy device files into "
                          "a container")
        if existing is not None:
            os.unlink(name, dir_fd=parent)
        mtime_ns = int(member.mtime * 1e9)
        if member.isreg():
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600, dir_fd=parent)
            try:
                source = tar.extractfile(member)
                if source is not None:
                    while chunk := source.read(CHUNK):
                        _write_all(fd, chunk)
                os.fchown(fd, uid, gid)
                os.fchmod(fd, self._mode(member))
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)
            return
        if member.islnk():
            self._hard_link(member, parent, name)
            return
        if member.issym():
            os.symlink(member.linkname, name, dir_fd=parent)
        elif member.isfifo():
            os.mkfifo(name, self._mode(member), dir_fd=parent)  # umask is 0: the mode is exact
        elif member.ischr() or member.isblk():
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            os.mknod(name, kind | self._mode(member),
                     os.makedev(member.devmajor, member.devminor), dir_fd=parent)
        else:
            raise FsError("invalid_argument", f"{shown}: unsupported archive entry type")
        os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
        os.utime(name, ns=(mtime_ns, mtime_ns), dir_fd=parent, follow_symlinks=False)

    def _hard_link(self, member: tarfile.TarInfo, parent: int, name: str) -> None:
        parts = _parts(member.linkname)
        if not parts:
            raise FsError("invalid_argument", f"bad hard link in the archive: {member.name}")
        source = self._dir(parts[:-1])
        try:
            os.link(parts[-1], name, src_dir_fd=source, dst_dir_fd=parent,
                    follow_symlinks=False)
        finally:
            os.close(source)

    def finish(self) -> None:
        for path, mtime_ns in reversed(self.dir_times):
            try:
                fd = openat2(self.view.root, path, os.O_RDONLY | os.O_DIRECTORY, IN_ROOT)
            except OSError:
                continue
            try:
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def op_put(view: View, req: dict[str, Any], reply: Reply, source: IO[bytes]) -> None:
    path = req["path"]
    found = lookup(view, path, True)
    found.close()
    if not stat.S_ISDIR(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is not a directory")
    if found.st.st_dev in view.kernel_devs:
        raise FsError("invalid_argument", f"cannot write into {path}: it is on a kernel "
                      "filesystem")
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st)})
    extractor = _Extractor(view, path, req["archive"], req["caller_uid"])
    try:
        with tarfile.open(fileobj=source, mode="r|") as tar:
            for member in tar:
                try:
                    extractor.extract(tar, member)
                except OSError as exc:
                    raise os_error(exc, posixpath.join(path, *_parts(member.name))) from None
    except tarfile.TarError as exc:
        raise FsError("invalid_argument", f"the archive is not a valid tar stream: {exc}") \
            from None
    extractor.finish()
    reply.send({"ok": True, "count": extractor.count})
