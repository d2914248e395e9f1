"""The one safe tar extractor: a hostile tar's entries written under a directory, as root.

Two callers: a layer unpacked into its private directory (engine/helper/layers/
extract.py) and a tar copied into a container (``docker cp``, engine/helper/runtime/
fsview/copyin.py). The names, links and modes come from the tar. Every step is done
relative to directory file descriptors: parent directories are resolved by
engine/helper/rootpath.py (a layer's one component at a time with ``O_NOFOLLOW``; a
container's inside its root, as its processes would), names holding ``..`` are
refused, entries are created with ``O_EXCL`` after removing what was at that name, an
owner is set before the mode (chown clears set-id bits and file capabilities), and
symlinks are written verbatim, never followed here. Directory times are set last,
once their entries stopped changing them.

What differs between the callers is a ``Rules``; each refusal is a ``Refused`` with a
reason the caller words for its user.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from engine.helper.rootpath import Blocked, RootDir, split_name

__all__ = ["Archive", "Member", "Refused", "Rules", "TarExtractor", "mtime_ns"]

_T = TypeVar("_T")
_PAX_MTIME = re.compile(r"(-?)(\d+)(?:\.(\d+))?\Z")
_PAX_XATTR = "SCHILY.xattr."
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20

# Directories kept open (not following links), most recently used last: a layer's
# entries come a directory at a time, but a package's files often alternate between a
# few (usr/bin, usr/share/doc/...). Each one saves a walk from the root (a Debian-like
# 130 MB layer: 180,000 opens -> 40,000, benchmarks/pull.py).
_OPEN_DIRS = 32


class Member(Protocol):
    """A tar entry's header: tarfile's ``TarInfo``, or the layer reader's ``Entry``
    (engine/helper/layers/tarread.py)."""

    @property
    def name(self) -> str: ...
    @property
    def linkname(self) -> str: ...
    @property
    def type(self) -> bytes: ...
    @property
    def mode(self) -> int: ...
    @property
    def uid(self) -> int: ...
    @property
    def gid(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime(self) -> int | float: ...
    @property
    def devmajor(self) -> int: ...
    @property
    def devminor(self) -> int: ...
    @property
    def pax_headers(self) -> Mapping[str, str]: ...
    def isreg(self) -> bool: ...
    def isdir(self) -> bool: ...
    def issym(self) -> bool: ...
    def islnk(self) -> bool: ...
    def ischr(self) -> bool: ...
    def isblk(self) -> bool: ...
    def isfifo(self) -> bool: ...


class Content(Protocol):
    def read(self, size: int = -1, /) -> bytes | memoryview: ...


class Archive(Protocol):
    """Where an entry's data is read: tarfile's ``TarFile``, or the layer reader."""

    def extractfile(self, member: Any) -> Content | None: ...



@dataclass(frozen=True)
class Rules:
    """How one caller's tars are written."""

    follow_links: bool  # parents resolved through symlinks inside the root (a container)
    absolute_names: bool  # "/x" means "x" below the base (docker cp), else refused
    owners: bool  # the tar's uid/gid, else 0:0
    setid: bool  # set-id bits kept on what is not a directory
    devices: bool  # device nodes may be made
    xattrs: bool  # PAX user.* and security.capability applied
    replace_any: bool  # an entry replaces whatever is there (a layer); else a
    #                    directory and a non-directory never replace each other
    links_within: bool  # a hard link names an earlier entry of the same tar
    base_entry: bool  # the tar's entry for the base itself (".") sets its owner and
    #                   mode (a layer's root); else it is skipped (docker cp)


class Refused(Exception):
    """An entry refused; ``entry`` is its name. ``reason``: nul, absolute or dotdot (its
    name, or with ``link`` its hard link's target name, then ``where``), missing or
    not_dir (a parent directory, ``where``), root (a non-directory for the base), type
    (unsupported), device, dir_over_file, file_over_dir (with ``replace_any`` off),
    link_target (no earlier entry of the tar, or none at all), link_dir, link_gone."""

    def __init__(self, reason: str, entry: str, where: str = "", link: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.entry = entry
        self.where = where
        self.link = link


class TarExtractor:
    """Writes tar entries below ``base`` of the tree at ``root``, one at a time.

    ``base`` must exist (it is never made); ``remove_dir(parent, name)`` removes a
    directory tree an entry replaces (needed with ``replace_any``); ``check_parent(fd,
    parts)`` may refuse the directory an entry (``parts``) goes into, by raising."""

    def __init__(self, root: int, rules: Rules, *, base: Sequence[str] = (),
                 remove_dir: Callable[[int, bytes], None] | None = None,
                 check_parent: Callable[[int, tuple[bytes, ...]], None] | None = None
                 ) -> None:
        self.root = root
        self.rules = rules
        self.base = tuple(os.fsencode(part) for part in base)
        self._remove_dir = remove_dir
        self._check_parent = check_parent
        self._tree = RootDir(root, follow_links=rules.follow_links)
        self.kinds: dict[tuple[bytes, ...], str] = {}  # what each entry made, for links
        # Every directory of the tree was made by this extractor (a layer's private
        # one): what it does not chown, nobody else changed. A file made as root that
        # the tar wants owned by 0 and by the group it gets anyway is not chowned
        # (15,600 fchowns of benchmarks/pull.py's rootfs layer).
        self.fresh = False
        self._new_gid: dict[tuple[bytes, ...], int] = {}  # a directory's new files' group
        self.dir_times: dict[tuple[bytes, ...], int] = {}
        # Regular files' bytes and symlinks' targets: docker's measure of a layer's size.
        self.content_bytes = 0
        self.replaced = False  # an entry replaced something already there
        self._dirs: OrderedDict[tuple[bytes, ...], int] = OrderedDict()

    # -- names and directories --

    def split(self, text: str, entry: str, *, link: bool = False) -> tuple[bytes, ...]:
        """The components of a member name (or hard link target) below the base."""
        try:
            parts = split_name(text, absolute_ok=self.rules.absolute_names)
        except Blocked as e:
            raise Refused(e.reason, entry, text if link else "", link) from None
        return tuple("/".join(parts).encode("utf-8", "surrogateescape").split(b"/")) \
            if parts else ()

    def open_dir(self, parts: tuple[bytes, ...], *, create: bool, entry: str) -> int:
        """The directory ``parts`` below the base, borrowed: valid until the next call,
        never to be closed by the caller."""
        if not parts and not self.base and not self.rules.follow_links:
            return self.root
        fd = self._dirs.get(parts)
        if fd is not None:
            self._dirs.move_to_end(parts)
            return fd
        # Following links, resolved from the root each time, as the container would;
        # else walked from the nearest open ancestor, the base at worst.
        start = 0
        if not self.rules.follow_links:
            start = len(parts) - 1
            while start > 0 and parts[:start] not in self._dirs:
                start -= 1
        try:
            if start:
                fd = RootDir(self._dirs[parts[:start]], follow_links=False).open_dir(
                    parts[start:], create=create)
            else:
                fd = self._tree.open_dir([*self.base, *parts], create=create,
                                         existing=len(self.base))
        except Blocked as e:
            raise Refused(e.reason, entry, _show(parts[:start] + e.parts)) from None
        self._dirs[parts] = fd
        if len(self._dirs) > _OPEN_DIRS:
            os.close(self._dirs.popitem(last=False)[1])
        return fd

    def _forget(self, parts: tuple[bytes, ...]) -> None:
        """Close the open directories at and below ``parts`` (their tree goes away)."""
        n = len(parts)
        for key in [k for k in self._dirs if k[:n] == parts]:
            os.close(self._dirs.pop(key))

    def close(self) -> None:
        self._forget(())

    # -- an entry --

    def apply(self, tar: Archive, member: Member,
              parts: tuple[bytes, ...] | None = None) -> None:
        """Write one entry (``parts``: its name, split already)."""
        parts = self.split(member.name, member.name) if parts is None else parts
        if not parts:
            if not self.rules.base_entry:
                return
            if not member.isdir():
                raise Refused("root", member.name)
            fd = self.open_dir((), create=False, entry=member.name)
            with _reopened(fd) as own:
                self.set_dir_meta(own, member)
            self.dir_times[()] = mtime_ns(member)
            self._new_gid.pop((), None)
            return
        parent = self.open_dir(parts[:-1], create=True, entry=member.name)
        if self._check_parent is not None:
            self._check_parent(parent, parts)
        if member.isdir():
            self._directory(parent, parts, member)
            return
        if not self.rules.replace_any:
            self._refuse_over_dir(parent, parts, member)
        if member.isreg():
            self._file(parent, parts, tar, member)
            kind = "file"
        elif member.issym():
            self._symlink(parent, parts, member)
            kind = "symlink"
        elif member.islnk():
            kind = self._hardlink(parent, parts, member)
        elif member.ischr() or member.isblk() or member.isfifo():
            if not member.isfifo() and not self.rules.devices:
                raise Refused("device", member.name)
            self._node(parent, parts, member)
            kind = "fifo" if member.isfifo() else "device"
        else:
            raise Refused("type", member.name)
        self.kinds[parts] = kind

    def _refuse_over_dir(self, parent: int, parts: tuple[bytes, ...],
                         member: Member) -> None:
        try:
            st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            raise Refused("file_over_dir", member.name)

    def create(self, parent: int, parts: tuple[bytes, ...], make: Callable[[], _T]) -> _T:
        """``make()`` the entry, after removing what was at its name."""
        try:
            return make()
        except FileExistsError:
            self.clear(parent, parts)
            return make()

    def clear(self, parent: int, parts: tuple[bytes, ...]) -> None:
        """Remove what is at this name, without following it."""
        name = parts[-1]
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        self.replaced = True
        if stat.S_ISDIR(st.st_mode):
            assert self._remove_dir is not None
            self._forget(parts)  # the tree goes away
            self._remove_dir(parent, name)
            n = len(parts)
            for key in [k for k in self.dir_times if k[:n] == parts]:
                del self.dir_times[key]
            for key in [k for k in self._new_gid if k[:n] == parts]:
                del self._new_gid[key]
        else:
            os.unlink(name, dir_fd=parent)
        self.kinds.pop(parts, None)

    def owner(self, member: Member) -> tuple[int, int]:
        return (member.uid, member.gid) if self.rules.owners else (0, 0)

    def mode(self, member: Member) -> int:
        mode = member.mode & 0o7777
        if not self.rules.setid and not member.isdir():
            mode &= ~(stat.S_ISUID | stat.S_ISGID)
        return mode

    def set_dir_meta(self, fd: int, member: Member) -> None:
        os.fchown(fd, *self.owner(member))
        os.fchmod(fd, self.mode(member))
        if self.rules.xattrs and member.pax_headers:
            _set_xattrs(fd, member)

    def _directory(self, parent: int, parts: tuple[bytes, ...],
                   member: Member) -> None:
        name = parts[-1]
        try:
            os.mkdir(name, 0o700, dir_fd=parent)
        except FileExistsError:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                if not self.rules.replace_any:
                    raise Refused("dir_over_file", member.name) from None
                self.clear(parent, parts)
                os.mkdir(name, 0o700, dir_fd=parent)
        fd = os.open(name, _OPEN_DIR, dir_fd=parent)
        try:
            self.set_dir_meta(fd, member)
        finally:
            os.close(fd)
        self.kinds[parts] = "dir"
        self.dir_times[parts] = mtime_ns(member)
        self._new_gid.pop(parts, None)

    def _file(self, parent: int, parts: tuple[bytes, ...], tar: Archive,
              member: Member) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = self.create(parent, parts, lambda: os.open(parts[-1], flags, 0o600, dir_fd=parent))
        self.content_bytes += member.size
        try:
            content = tar.extractfile(member)
            left = member.size  # a sparse member's too: its data as it reads, holes filled
            # Asked for no more than is left: a small file is one read, not two, and no
            # 1 MiB buffer made for it (the rootfs image's 16,000 files: ~10 % of tarfile's time).
            while content is not None and left > 0:
                chunk = content.read(min(left, _CHUNK))
                if not chunk:
                    break
                left -= len(chunk)
                self.wrote(len(chunk))
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            # chown clears setuid/setgid and file capabilities: mode and xattrs after it.
            if not self._owned_already(parent, parts, member):
                os.fchown(fd, *self.owner(member))
            os.fchmod(fd, self.mode(member))
            if self.rules.xattrs and member.pax_headers:
                _set_xattrs(fd, member)
            mtime = mtime_ns(member)
            os.utime(fd, ns=(mtime, mtime))
        finally:
            os.close(fd)

    def _owned_already(self, parent: int, parts: tuple[bytes, ...], member: Member) -> bool:
        """Whether what was just made at ``parts`` has the owner ``member`` wants."""
        if not self.fresh:
            return False
        uid, gid = self.owner(member)
        if uid != 0:
            return False
        made = self._new_gid.get(parts[:-1])
        if made is None:  # the directory's group if it is set-gid, else ours
            st = os.fstat(parent)
            made = st.st_gid if st.st_mode & stat.S_ISGID else os.getegid()
            self._new_gid[parts[:-1]] = made
        return gid == made

    def wrote(self, size: int) -> None:
        """``size`` more bytes of a file's content written (a caller may bound them)."""

    def _symlink(self, parent: int, parts: tuple[bytes, ...], member: Member) -> None:
        # The target is kept verbatim: it is resolved inside the container, never here.
        target = member.linkname.encode("utf-8", "surrogateescape")
        self.content_bytes += len(target)
        name = parts[-1]
        self.create(parent, parts, lambda: os.symlink(target, name, dir_fd=parent))
        if not self._owned_already(parent, parts, member):
            os.chown(name, *self.owner(member), dir_fd=parent, follow_symlinks=False)
        mtime = mtime_ns(member)
        os.utime(name, ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)

    def _hardlink(self, parent: int, parts: tuple[bytes, ...], member: Member) -> str:
        self.clear(parent, parts)  # first: the link's target may lie in what it removes
        target = self.split(member.linkname, member.name, link=True)
        kind = self.kinds.get(target, "") if self.rules.links_within else "file"
        if not target or kind not in _LINKABLE:
            raise Refused("link_target", member.name)
        # Its own fd, not one of the cache's: that one could close under ``parent``.
        try:
            target_parent = self._tree.open_dir([*self.base, *target[:-1]], create=False,
                                                existing=len(self.base))
        except (Blocked, FileNotFoundError):
            raise Refused("link_gone", member.name) from None
        try:
            st = os.stat(target[-1], dir_fd=target_parent, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                raise Refused("link_dir", member.name)
            os.link(target[-1], parts[-1], src_dir_fd=target_parent, dst_dir_fd=parent,
                    follow_symlinks=False)
        except FileNotFoundError:
            raise Refused("link_gone", member.name) from None
        finally:
            os.close(target_parent)
        return kind

    def _node(self, parent: int, parts: tuple[bytes, ...], member: Member) -> None:
        name = parts[-1]
        if member.isfifo():
            kind, device = stat.S_IFIFO, 0
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            device = os.makedev(member.devmajor, member.devminor)
        self.create(parent, parts, lambda: os.mknod(name, kind | 0o600, device, dir_fd=parent))
        os.chown(name, *self.owner(member), dir_fd=parent, follow_symlinks=False)
        # The node was just made by us (O_EXCL-like: mknod fails on an existing name) in
        # the directory we hold: following it is following nothing.
        os.chmod(name, self.mode(member), dir_fd=parent)
        mtime = mtime_ns(member)
        os.utime(name, ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)

    # -- the end --

    def finish(self) -> None:
        """Directories get their times (their entries changed them)."""
        for parts, mtime in self.dir_times.items():
            try:
                if not parts:
                    with _reopened(self.open_dir((), create=False, entry="")) as fd:
                        os.utime(fd, ns=(mtime, mtime))
                    continue
                parent = self.open_dir(parts[:-1], create=False, entry="")
                os.utime(parts[-1], ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)
            except (Refused, FileNotFoundError):
                pass


# Kinds of entry a hard link may point at (never a directory, never a whiteout).
_LINKABLE = frozenset({"file", "symlink", "device", "fifo"})


class _reopened:
    """A real (not O_PATH) fd of a directory we hold, for fchown/fchmod/utime."""

    def __init__(self, fd: int) -> None:
        self.fd = os.open(".", _OPEN_DIR, dir_fd=fd)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _set_xattrs(fd: int, member: Member) -> None:
    """Apply the PAX xattrs a container may carry: user.* and file capabilities."""
    for key, value in member.pax_headers.items():
        if not key.startswith(_PAX_XATTR):
            continue
        name = key[len(_PAX_XATTR):]
        if not (name.startswith("user.") or name == "security.capability"):
            continue
        try:
            os.setxattr(fd, name, value.encode("utf-8", "surrogateescape"))
        except OSError as e:
            if e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
                raise


def mtime_ns(member: Member) -> int:
    """The entry's time; PAX times are decimal strings, read exactly, not as a float."""
    if "mtime" not in member.pax_headers:
        return int(member.mtime) * 1_000_000_000
    match = _PAX_MTIME.match(member.pax_headers["mtime"])
    if match:
        sign, seconds, fraction = match.groups()
        ns = int(seconds) * 1_000_000_000 + int(((fraction or "") + "000000000")[:9])
        return -ns if sign else ns
    return int(member.mtime) * 1_000_000_000


def _show(parts: tuple[str | bytes, ...]) -> str:
    return b"/".join(map(os.fsencode, parts)).decode("utf-8", "backslashreplace")
