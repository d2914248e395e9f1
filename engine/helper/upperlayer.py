"""A container's changes as an image layer: its overlay upper directory written as a tar.

``skiff build`` (each RUN) and ``skiff commit`` turn what a container wrote into
a layer. The upper directory is root's and the container's, not the user's, so
the helper reads it, as root, and writes the tar into a regular file the user's
own process opened and passed as a descriptor (the kernel checked the user may
write it). It holds only what the container could read itself.

The upper is walked with directory descriptors and ``O_NOFOLLOW``, never through
a symlink; files are opened non-blocking and taken only when they are regular.
Entries are the container's changes (engine/helper/changes.py, which leaves out
what the runtime made: /dev, /proc, /sys, /etc/hosts...). Overlay whiteouts
become ``.wh.NAME`` entries and opaque directories ``.wh..wh..opq``, as OCI
layers say them. Owners are shifted back through the container's user namespace
map: a file container root wrote belongs to uid 0 in the layer, whoever built it.
File capabilities (``setcap`` in a RUN) go in as the ``security.capability``
PAX xattr, in the form images carry (revision 2); a namespaced one (revision 3)
whose root is the container's root becomes that form too. The tar may grow to
the helper's layer limit (``--max-layer-size``), past which the verb fails.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import tarfile
from collections.abc import Sequence
from pathlib import Path

from engine.errors import InvalidArgument, LayerError
from engine.helper.changes import container_changes

__all__ = ["IdShift", "write_upper_layer"]

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_OPAQUE_XATTR = "trusted.overlay.opaque"
_OVERFLOW = 65534  # an id outside the map: nobody, as the kernel shows it
_FILE_CAPS = "security.capability"
_PAX_CAPS = "SCHILY.xattr." + _FILE_CAPS
_CAP_REVISION_MASK = 0xFF000000
_CAP_REVISION_2 = 0x02000000
_CAP_REVISION_3 = 0x03000000


class IdShift:
    """Host ids back to the container's: the inverse of a uid_map or gid_map."""

    def __init__(self, extents: Sequence[Sequence[int]] | None) -> None:
        self.extents = [tuple(e) for e in extents or []]

    def inside(self, host: int) -> int:
        if not self.extents:
            return host
        for first, outside, count in self.extents:
            if outside <= host < outside + count:
                return first + host - outside
        return _OVERFLOW


def write_upper_layer(upper: Path, lowers: Sequence[Path], mount_points: Sequence[str],
                      out_fd: int, uids: IdShift, gids: IdShift,
                      max_bytes: int = 64 << 30) -> int:
    """Write the layer tar to ``out_fd`` (a regular file); the number of entries."""
    st = os.fstat(out_fd)
    if not stat.S_ISREG(st.st_mode):
        raise InvalidArgument("the layer must be written to a regular file")
    kept = {path for kind, path in container_changes(upper, lowers, mount_points)}
    out = os.fdopen(os.dup(out_fd), "wb")
    writer = _Writer(out, kept, uids, gids, max_bytes)
    try:
        root = os.open(upper, _OPEN_DIR)
    except OSError as e:
        out.close()
        raise LayerError(f"cannot read the container's changes: {e.strerror}") from e
    try:
        writer.walk(root, "")
        writer.tar.close()
    finally:
        os.close(root)
        out.close()
    return writer.count


class _Writer:
    def __init__(self, out: object, kept: set[str], uids: IdShift, gids: IdShift,
                 max_bytes: int) -> None:
        self.tar = tarfile.open(  # type: ignore[call-overload]  # noqa: SIM115
            fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self.kept = kept
        self.uids, self.gids = uids, gids
        self.count = 0
        self.budget = self.limit = max_bytes
        self.links: dict[tuple[int, int], str] = {}

    def _info(self, name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = self.uids.inside(st.st_uid), self.gids.inside(st.st_gid)
        info.uname = info.gname = ""
        info.mtime = int(st.st_mtime)
        return info

    def _add(self, info: tarfile.TarInfo, data: object = None) -> None:
        self.budget -= 512 + info.size
        if self.budget < 0:
            from engine.helper.layersource import describe_size

            raise LayerError(f"the container's changes are larger than the helper's "
                             f"{describe_size(self.limit)} layer limit")
        self.tar.addfile(info, data)
        self.count += 1

    def walk(self, fd: int, path: str) -> None:
        with os.scandir(fd) as entries:
            names = sorted(e.name for e in entries)
        for name in names:
            child = f"{path}/{name}"
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                if child in self.kept:
                    info = self._info(f"{path}/.wh.{name}".lstrip("/"), st, tarfile.REGTYPE)
                    info.mode, info.uid, info.gid = 0o600, 0, 0
                    self._add(info)
                continue
            if child not in self.kept:
                if stat.S_ISDIR(st.st_mode):
                    self._descend(fd, name, child)
                continue
            self._entry(fd, name, child, st)

    def _descend(self, fd: int, name: str, child: str) -> None:
        try:
            sub = os.open(name, _OPEN_DIR, dir_fd=fd)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return
            raise
        try:
            self.walk(sub, child)
        finally:
            os.close(sub)

    def _entry(self, fd: int, name: str, child: str, st: os.stat_result) -> None:
        relative = child.lstrip("/")
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            self._add(self._info(relative, st, tarfile.DIRTYPE))
            try:
                sub = os.open(name, _OPEN_DIR, dir_fd=fd)
            except OSError:
                return
            try:
                if _opaque(sub):
                    marker = self._info(f"{relative}/.wh..wh..opq", st, tarfile.REGTYPE)
                    marker.mode, marker.uid, marker.gid = 0o600, 0, 0
                    self._add(marker)
                self.walk(sub, child)
            finally:
                os.close(sub)
        elif stat.S_ISLNK(mode):
            info = self._info(relative, st, tarfile.SYMTYPE)
            info.linkname = os.readlink(name, dir_fd=fd)
            self._add(info)
        elif stat.S_ISREG(mode):
            self._file(fd, name, relative, st)
        elif stat.S_ISFIFO(mode):
            self._add(self._info(relative, st, tarfile.FIFOTYPE))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            info = self._info(relative, st,
                              tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE)
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            self._add(info)
        # sockets are no part of an image

    def _file(self, fd: int, name: str, relative: str, st: os.stat_result) -> None:
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in self.links:
            info = self._info(relative, st, tarfile.LNKTYPE)
            info.linkname = self.links[key]
            self._add(info)
            return
        try:
            file_fd = os.open(name, _OPEN_FILE, dir_fd=fd)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENXIO):
                return
            raise
        with os.fdopen(file_fd, "rb") as data:
            opened = os.fstat(data.fileno())
            if not stat.S_ISREG(opened.st_mode):
                return
            info = self._info(relative, opened, tarfile.REGTYPE)
            info.size = opened.st_size
            caps = _file_caps(data.fileno(), self.uids)
            if caps is not None:
                info.pax_headers = {_PAX_CAPS: caps.decode("utf-8", "surrogateescape")}
            self._add(info, data)
        if st.st_nlink > 1:
            self.links[key] = relative


def _file_caps(fd: int, uids: IdShift) -> bytes | None:
    """A file's capabilities as a layer carries them: revision 2, or revision 3 with
    its root id shifted into the container (None: it has none, or none that hold)."""
    try:
        raw = os.getxattr(fd, _FILE_CAPS)
    except OSError:
        return None
    if len(raw) < 4:
        return None
    magic = struct.unpack_from("<I", raw)[0]
    revision = magic & _CAP_REVISION_MASK
    if revision == _CAP_REVISION_2 and len(raw) >= 20:
        return raw[:20]
    if revision == _CAP_REVISION_3 and len(raw) >= 24:
        rootid = uids.inside(struct.unpack_from("<I", raw, 20)[0])
        if rootid == 0:  # the container's root: the plain form, as docker writes it
            return struct.pack("<I", (magic & ~_CAP_REVISION_MASK) | _CAP_REVISION_2) + \
                raw[4:20]
        if rootid == _OVERFLOW:
            return None  # a root outside the container's map: it holds nothing here
        return raw[:20] + struct.pack("<I", rootid)
    return None


def _opaque(fd: int) -> bool:
    try:
        return os.getxattr(fd, _OPAQUE_XATTR) == b"y"
    except OSError:
        return False
