"""Applying a layer's tar entries under a private directory, as root.

The names, links and modes come from a hostile tar. Every filesystem step is
done relative to directory file descriptors: parent directories are opened one
component at a time with ``O_NOFOLLOW`` (engine/helper/rootpath.py, the
resolver shared with the container file access), names are refused when
absolute or holding ``..``, entries are created with ``O_EXCL`` after removing
what an earlier entry left at that name, and hard links must point at an
earlier entry of the same layer.

Whiteouts are converted to the overlayfs format as they are read (``.wh.NAME``
becomes a 0:0 character device, ``.wh..wh..opq`` the ``trusted.overlay.opaque``
xattr), so a layer directory can be used directly as an overlay lower directory.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tarfile
from typing import NoReturn

from engine.errors import LayerError
from engine.helper.layers.store import OPEN_DIR, remove_tree
from engine.helper.layers.streams import CHUNK
from engine.helper.layersource import Budget
from engine.helper.rootpath import Blocked, RootDir, split_name

__all__ = ["Extractor"]

_PAX_MTIME = re.compile(r"(-?)(\d+)(?:\.(\d+))?\Z")

_WHITEOUT = b".wh."
_WHITEOUT_META = b".wh..wh."
_OPAQUE = b".wh..wh..opq"
_OPAQUE_XATTR = "trusted.overlay.opaque"
_PAX_XATTR = "SCHILY.xattr."

# Kinds of entry a hard link may point at (never a directory, never a whiteout).
_LINKABLE = frozenset({"file", "symlink", "device", "fifo"})

# How the layer's refusals word what split_name refused.
_SPLIT_REFUSALS = {
    "nul": "holds a NUL byte",
    "absolute": "is an absolute path",
    "dotdot": "has a '..' component: it would escape the layer",
}


class Extractor:
    """Applies tar entries under ``root``, a private directory, one at a time."""

    def __init__(self, root: int, scratch: int, label: str, budget: Budget) -> None:
        self.root = root
        self._tree = RootDir(root, follow_links=False)  # never through a symlink
        self.scratch = scratch
        self.label = label
        self.budget = budget
        self.kinds: dict[tuple[bytes, ...], str] = {}
        self.dir_times: dict[tuple[bytes, ...], int] = {}
        self.root_mode_set = False
        # The last parent directory opened: tar entries mostly come a directory at a time.
        self._cached: tuple[tuple[bytes, ...], int] | None = None

    # -- entry points --

    def apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        try:
            self._apply(tar, member)
        except LayerError:
            raise
        except (OSError, OverflowError, ValueError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise LayerError(f"layer {self.label}: cannot unpack {member.name!r}: {reason}") from e

    def close(self) -> None:
        self._forget_parent()

    def finish(self) -> None:
        """Give the root its mode, then directories their times (their entries changed them)."""
        if not self.root_mode_set:
            os.fchmod(self.root, 0o755)
        for parts, mtime in self.dir_times.items():
            if not parts:
                os.utime(self.root, ns=(mtime, mtime))
                continue
            try:
                parent = self._open_dir(parts[:-1], create=False, name="")
            except LayerError:
                continue
            try:
                st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    os.utime(parts[-1], ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                pass
            finally:
                os.close(parent)

    # -- dispatch --

    def _apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = self._split(member.name, member.name)
        if any(part.startswith(_WHITEOUT_META) for part in parts[:-1]):
            return  # inside an aufs metadata directory (.wh..wh.plnk): not content
        if not parts:
            if not member.isdir():
                self._refuse(member.name, "replaces the layer's root directory")
            self._set_dir_meta(self.root, member)
            self.root_mode_set = True
            self.dir_times[()] = _mtime_ns(member)
            return
        base = parts[-1]
        if base.startswith(_WHITEOUT):
            self._whiteout(parts, member)
            return
        parent = self._open_dir(parts[:-1], create=True, name=member.name)
        try:
            name = parts[-1]
            if member.isdir():
                self._directory(parent, parts, member)
                return
            self._clear(parent, parts)
            if member.isreg():
                self._file(parent, name, tar, member)
                kind = "file"
            elif member.issym():
                self._symlink(parent, name, member)
                kind = "symlink"
            elif member.islnk():
                kind = self._hardlink(parent, name, member)
            elif member.ischr() or member.isblk() or member.isfifo():
                self._node(parent, name, member)
                kind = "fifo" if member.isfifo() else "device"
            else:
                self._refuse(member.name, f"has an unsupported type {member.type!r}")
            self.kinds[parts] = kind
        finally:
            os.close(parent)

    # -- names --

    def _split(self, text: str, entry: str, *, link: bool = False) -> tuple[bytes, ...]:
        """The components of a member name (or hard link target) inside the layer."""
        lead = f"is a hard link to {text!r}, which " if link else ""
        try:
            parts = split_name(text, absolute_ok=False)
        except Blocked as e:
            self._refuse(entry, lead + _SPLIT_REFUSALS[e.reason])
        return tuple(part.encode("utf-8", "surrogateescape") for part in parts)

    def _refuse(self, entry: str, why: str) -> NoReturn:
        raise LayerError(f"layer {self.label}: entry {entry!r} {why}; refusing the layer")

    def _open_dir(self, parts: tuple[bytes, ...], *, create: bool, name: str) -> int:
        """Open the directory ``parts`` under the root, never through a symlink."""
        if create and self._cached is not None and self._cached[0] == parts:
            return os.dup(self._cached[1])
        fd = self._walk(parts, create=create, name=name)
        if create:
            self._forget_parent()
            self._cached = (parts, os.dup(fd))
        return fd

    def _forget_parent(self) -> None:
        if self._cached is not None:
            os.close(self._cached[1])
            self._cached = None

    def _walk(self, parts: tuple[bytes, ...], *, create: bool, name: str) -> int:
        try:
            return self._tree.open_dir(parts, create=create)
        except Blocked as e:
            where = _show(e.parts)
            if e.reason == "missing":
                self._refuse(name, f"needs {where!r}, which does not exist")
            self._refuse(name, f"lies under {where!r}, which is a symlink or not a directory")

    def _clear(self, parent: int, parts: tuple[bytes, ...]) -> None:
        """Remove what an earlier entry left at this name, without following it."""
        name = parts[-1]
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            self._forget_parent()  # it may lie in the tree that goes away
            remove_tree(parent, name, self.scratch)
            n = len(parts)
            for key in [k for k in self.dir_times if k[:n] == parts]:
                del self.dir_times[key]
        else:
            os.unlink(name, dir_fd=parent)
        self.kinds.pop(parts, None)

    # -- entry kinds --

    def _directory(self, parent: int, parts: tuple[bytes, ...], member: tarfile.TarInfo) -> None:
        name = parts[-1]
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            exists = stat.S_ISDIR(st.st_mode)
        except FileNotFoundError:
            exists = False
        if not exists:
            self._clear(parent, parts)
            os.mkdir(name, 0o700, dir_fd=parent)
        fd = os.open(name, OPEN_DIR, dir_fd=parent)
        try:
            self._set_dir_meta(fd, member)
        finally:
            os.close(fd)
        self.kinds[parts] = "dir"
        self.dir_times[parts] = _mtime_ns(member)

    def _set_dir_meta(self, fd: int, member: tarfile.TarInfo) -> None:
        os.fchown(fd, member.uid, member.gid)
        os.fchmod(fd, member.mode & 0o7777)
        _set_xattrs(fd, member)

    def _file(
        self, parent: int, name: bytes, tar: tarfile.TarFile, member: tarfile.TarInfo
    ) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(name, flags, 0o600, dir_fd=parent)
        try:
            content = tar.extractfile(member)
            if content is not None:
                while chunk := content.read(CHUNK):
                    self.budget.files(len(chunk))  # sparse members can outgrow the tar
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
            # chown clears setuid/setgid and file capabilities: mode and xattrs after it.
            os.fchown(fd, member.uid, member.gid)
            os.fchmod(fd, member.mode & 0o7777)
            _set_xattrs(fd, member)
            mtime = _mtime_ns(member)
            os.utime(fd, ns=(mtime, mtime))
        finally:
            os.close(fd)

    def _symlink(self, parent: int, name: bytes, member: tarfile.TarInfo) -> None:
        # The target is kept verbatim: it is resolved inside the container, never here.
        target = member.linkname.encode("utf-8", "surrogateescape")
        os.symlink(target, name, dir_fd=parent)
        os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        mtime = _mtime_ns(member)
        os.utime(name, ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)

    def _hardlink(self, parent: int, name: bytes, member: tarfile.TarInfo) -> str:
        target = self._split(member.linkname, member.name, link=True)
        kind = self.kinds.get(target)
        if not target or kind not in _LINKABLE:
            self._refuse(
                member.name,
                f"is a hard link to {member.linkname!r}, which is not an earlier file of "
                "this layer",
            )
        target_parent = self._open_dir(target[:-1], create=False, name=member.name)
        try:
            st = os.stat(target[-1], dir_fd=target_parent, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                self._refuse(member.name, f"is a hard link to the directory {member.linkname!r}")
            os.link(
                target[-1],
                name,
                src_dir_fd=target_parent,
                dst_dir_fd=parent,
                follow_symlinks=False,
            )
        except FileNotFoundError:
            self._refuse(
                member.name, f"is a hard link to {member.linkname!r}, which no longer exists"
            )
        finally:
            os.close(target_parent)
        return kind

    def _node(self, parent: int, name: bytes, member: tarfile.TarInfo) -> None:
        if member.isfifo():
            kind, device = stat.S_IFIFO, 0
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            device = os.makedev(member.devmajor, member.devminor)
        os.mknod(name, kind | 0o600, device, dir_fd=parent)
        os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        # The node was just made by us in a private directory: following is safe.
        os.chmod(name, member.mode & 0o7777, dir_fd=parent)
        mtime = _mtime_ns(member)
        os.utime(name, ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)

    def _whiteout(self, parts: tuple[bytes, ...], member: tarfile.TarInfo) -> None:
        base = parts[-1]
        if base.startswith(_WHITEOUT_META) and base != _OPAQUE:
            return  # other aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not content
        parent = self._open_dir(parts[:-1], create=True, name=member.name)
        try:
            if base == _OPAQUE:
                fd = os.open(".", OPEN_DIR, dir_fd=parent)
                try:
                    os.setxattr(fd, _OPAQUE_XATTR, b"y")
                finally:
                    os.close(fd)
                return
            hidden = base[len(_WHITEOUT) :]
            if hidden in (b"", b".", b".."):
                self._refuse(member.name, "is a whiteout without a valid name")
            target = (*parts[:-1], hidden)
            self._clear(parent, target)
            os.mknod(hidden, stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent)
            os.chown(hidden, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
            self.kinds[target] = "whiteout"
        finally:
            os.close(parent)


def _set_xattrs(fd: int, member: tarfile.TarInfo) -> None:
    """Apply the PAX xattrs a container may carry: user.* and file capabilities."""
    for key, value in member.pax_headers.items():
        if not key.startswith(_PAX_XATTR):
            continue
        name = key[len(_PAX_XATTR) :]
        if not (name.startswith("user.") or name == "security.capability"):
            continue
        try:
            os.setxattr(fd, name, value.encode("utf-8", "surrogateescape"))
        except OSError as e:
            if e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
                raise


def _mtime_ns(member: tarfile.TarInfo) -> int:
    # PAX times are decimal strings; read them exactly rather than through a float.
    match = _PAX_MTIME.match(member.pax_headers.get("mtime", ""))
    if match:
        sign, seconds, fraction = match.groups()
        ns = int(seconds) * 1_000_000_000 + int(((fraction or "") + "000000000")[:9])
        return -ns if sign else ns
    return int(member.mtime) * 1_000_000_000


def _show(parts: tuple[str | bytes, ...]) -> str:
    return b"/".join(map(os.fsencode, parts)).decode("utf-8", "backslashreplace")
