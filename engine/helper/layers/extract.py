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
from collections import OrderedDict
from collections.abc import Callable
from typing import NoReturn, TypeVar

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

# Directories kept open, most recently used last: a layer's entries come a directory
# at a time, but a package's files often alternate between a few (usr/bin, usr/share/
# doc/...). Each one saves a walk from the root (a Debian-like 130 MB layer: 180,000
# opens -> 40,000, benchmarks/pull.py).
_OPEN_DIRS = 32

_T = TypeVar("_T")

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
        # Regular-file bytes written; the layer's size while nothing was replaced.
        self.file_bytes = 0
        self.replaced = False
        self._dirs: OrderedDict[tuple[bytes, ...], int] = OrderedDict()

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
        self._forget(())

    def finish(self) -> None:
        """Give the root its mode, then directories their times (their entries changed them)."""
        if not self.root_mode_set:
            os.fchmod(self.root, 0o755)
        # Every name left in dir_times is a directory: _clear() drops the names it removes.
        for parts, mtime in self.dir_times.items():
            if not parts:
                os.utime(self.root, ns=(mtime, mtime))
                continue
            try:
                parent = self._open_dir(parts[:-1], create=False, name="")
                os.utime(parts[-1], ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)
            except (LayerError, FileNotFoundError):
                pass

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
        name = parts[-1]
        if member.isdir():
            self._directory(parent, parts, member)
            return
        if member.isreg():
            self._file(parent, parts, tar, member)
            kind = "file"
        elif member.issym():
            self._symlink(parent, parts, member)
            kind = "symlink"
        elif member.islnk():
            kind = self._hardlink(parent, parts, member)
        elif member.ischr() or member.isblk() or member.isfifo():
            self._node(parent, name, parts, member)
            kind = "fifo" if member.isfifo() else "device"
        else:
            self._refuse(member.name, f"has an unsupported type {member.type!r}")
        self.kinds[parts] = kind

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
        """The directory ``parts`` under the root, never through a symlink.

        The fd is borrowed from the cache of open directories: valid until the next
        call, never to be closed by the caller."""
        if not parts:
            return self.root
        fd = self._dirs.get(parts)
        if fd is not None:
            self._dirs.move_to_end(parts)
            return fd
        # Walk from the nearest open ancestor, the root at worst.
        start = len(parts) - 1
        while start > 0 and parts[:start] not in self._dirs:
            start -= 1
        base = self._dirs[parts[:start]] if start else self.root
        try:
            fd = RootDir(base, follow_links=False).open_dir(parts[start:], create=create)
        except Blocked as e:
            where = _show(parts[:start] + e.parts)
            if e.reason == "missing":
                self._refuse(name, f"needs {where!r}, which does not exist")
            self._refuse(name, f"lies under {where!r}, which is a symlink or not a directory")
        self._dirs[parts] = fd
        if len(self._dirs) > _OPEN_DIRS:
            os.close(self._dirs.popitem(last=False)[1])
        return fd

    def _forget(self, parts: tuple[bytes, ...]) -> None:
        """Close the open directories at and below ``parts`` (their tree goes away)."""
        n = len(parts)
        for key in [k for k in self._dirs if k[:n] == parts]:
            os.close(self._dirs.pop(key))

    def _create(self, parent: int, parts: tuple[bytes, ...], make: Callable[[], _T]) -> _T:
        """``make()`` the entry, after removing what an earlier entry left at its name."""
        try:
            return make()
        except FileExistsError:
            self._clear(parent, parts)
            return make()

    def _clear(self, parent: int, parts: tuple[bytes, ...]) -> None:
        """Remove what an earlier entry left at this name, without following it."""
        name = parts[-1]
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        self.replaced = True
        if stat.S_ISDIR(st.st_mode):
            self._forget(parts)  # the tree goes away
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
            os.mkdir(name, 0o700, dir_fd=parent)
        except FileExistsError:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
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
        self, parent: int, parts: tuple[bytes, ...], tar: tarfile.TarFile,
        member: tarfile.TarInfo,
    ) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = self._create(parent, parts, lambda: os.open(parts[-1], flags, 0o600, dir_fd=parent))
        self.file_bytes += member.size
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

    def _symlink(self, parent: int, parts: tuple[bytes, ...], member: tarfile.TarInfo) -> None:
        # The target is kept verbatim: it is resolved inside the container, never here.
        target = member.linkname.encode("utf-8", "surrogateescape")
        name = parts[-1]
        self._create(parent, parts, lambda: os.symlink(target, name, dir_fd=parent))
        os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        mtime = _mtime_ns(member)
        os.utime(name, ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)

    def _hardlink(self, parent: int, parts: tuple[bytes, ...], member: tarfile.TarInfo) -> str:
        self._clear(parent, parts)  # first: the link's target may lie in what it removes
        name = parts[-1]
        target = self._split(member.linkname, member.name, link=True)
        kind = self.kinds.get(target)
        if not target or kind not in _LINKABLE:
            self._refuse(
                member.name,
                f"is a hard link to {member.linkname!r}, which is not an earlier file of "
                "this layer",
            )
        # Its own fd, not one of the cache's: that one could close under ``parent``.
        try:
            target_parent = self._tree.open_dir(target[:-1], create=False)
        except Blocked:
            target_parent = -1
        try:
            if target_parent < 0:
                raise FileNotFoundError
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
            if target_parent >= 0:
                os.close(target_parent)
        return kind

    def _node(
        self, parent: int, name: bytes, parts: tuple[bytes, ...], member: tarfile.TarInfo
    ) -> None:
        if member.isfifo():
            kind, device = stat.S_IFIFO, 0
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            device = os.makedev(member.devmajor, member.devminor)
        self._create(parent, parts, lambda: os.mknod(name, kind | 0o600, device, dir_fd=parent))
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
