"""Unpacking image layers into per-layer directories, as root, without trusting the tar.

A layer blob comes from a registry or an archive: its names, links and modes are
hostile input, and this code runs as root. So the tar is parsed with ``tarfile``
in stream mode but every filesystem step is done here, relative to directory file
descriptors: each parent directory is opened one component at a time with
``O_NOFOLLOW``, names are refused when absolute or holding ``..``, entries are
created with ``O_EXCL`` after removing what an earlier entry left at that name, and
hard links must point at an earlier entry of the same layer. Nothing is written
outside a private temporary directory, which becomes ``<layers>/sha256/<hex>``
by one rename once the blob matched its digest and the tar its diff_id.

Every unpack runs within a ``Budget`` (engine/helper/layersource.py): the blob,
the tar and the files written stay under a size limit, the whole under a time
limit, and a cancelled request stops at its next read or write.

Whiteouts are converted to the overlayfs format as they are read (``.wh.NAME``
becomes a 0:0 character device, ``.wh..wh..opq`` the ``trusted.overlay.opaque``
xattr), so a layer directory can be used directly as an overlay lower directory.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tarfile
import zlib
from pathlib import Path
from tarfile import (  # type: ignore[attr-defined]  # real, but not in typeshed
    InvalidHeaderError,
    TruncatedHeaderError,
)
from typing import IO, NoReturn, Protocol, Self, cast

from engine.errors import DigestMismatch, LayerError
from engine.helper.layersource import Budget, UnpackLimits
from engine.processes import is_alive

__all__ = [
    "clean_temp",
    "detach_layer",
    "has_layer",
    "layer_path",
    "layer_size",
    "purge_detached",
    "remove_layer",
    "unpack_layer",
]

_CHUNK = 1 << 20
# tarfile's stream buffer is copied whole on every header read: keep it small.
_TAR_BUFFER = 1 << 16
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})\Z")
_PAX_MTIME = re.compile(r"(-?)(\d+)(?:\.(\d+))?\Z")

# Opens a directory to walk through it: never a symlink, never anything but a dir.
_WALK = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Opens a directory to change it (fchown, fchmod, xattrs, listing).
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

_WHITEOUT = b".wh."
_WHITEOUT_META = b".wh..wh."
_OPAQUE = b".wh..wh..opq"
_OPAQUE_XATTR = "trusted.overlay.opaque"
_PAX_XATTR = "SCHILY.xattr."

_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BZIP2_BLOCK = b"\x31\x41\x59\x26\x53\x59"

# Kinds of entry a hard link may point at (never a directory, never a whiteout).
_LINKABLE = frozenset({"file", "symlink", "device", "fifo"})


# --- where layers live ---------------------------------------------------------


def _hex(diff_id: str) -> str:
    match = _DIGEST.match(diff_id) if isinstance(diff_id, str) else None
    if match is None:
        raise LayerError(f"invalid layer id {diff_id!r}: expected sha256: and 64 hex digits")
    return match.group(1)


def layer_path(layers_dir: Path, diff_id: str) -> Path:
    """The directory that holds the unpacked layer ``diff_id``."""
    return Path(layers_dir) / "sha256" / _hex(diff_id)


def has_layer(layers_dir: Path, diff_id: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(layer_path(layers_dir, diff_id)).st_mode)
    except FileNotFoundError:
        return False


def layer_size(layers_dir: Path, diff_id: str) -> int:
    """Bytes of regular-file content in an unpacked layer (hard links counted once)."""
    path = layer_path(layers_dir, diff_id)
    try:
        root = os.open(path, _OPEN_DIR)
    except FileNotFoundError:
        raise LayerError(f"layer {_short(diff_id)} is not unpacked") from None
    except OSError as e:
        raise LayerError(f"cannot read layer {_short(diff_id)}: {e.strerror}") from e
    try:
        return _tree_size(root)
    except OSError as e:
        raise LayerError(f"cannot read layer {_short(diff_id)}: {e.strerror}") from e
    finally:
        os.close(root)


def _tree_size(root: int) -> int:
    total = 0
    seen: set[int] = set()
    # One frame per directory level: its fd and the subdirectories still to visit.
    frames: list[tuple[int, list[str]]] = []
    fd = os.dup(root)
    try:
        while True:
            subdirs: list[str] = []
            with os.scandir(fd) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(st.st_mode):
                        subdirs.append(entry.name)
                    elif stat.S_ISREG(st.st_mode) and st.st_ino not in seen:
                        seen.add(st.st_ino)
                        total += st.st_size
            frames.append((fd, subdirs))
            fd = -1
            while frames and fd < 0:
                parent, pending = frames[-1]
                if pending:
                    fd = os.open(pending.pop(), _OPEN_DIR, dir_fd=parent)
                else:
                    os.close(parent)
                    frames.pop()
            if fd < 0:
                return total
    finally:
        for parent, _ in frames:
            os.close(parent)
        if fd >= 0:
            os.close(fd)


def remove_layer(layers_dir: Path, diff_id: str) -> None:
    """Delete an unpacked layer; nothing to do when it is not there."""
    name = detach_layer(layers_dir, diff_id)
    if name is not None:
        purge_detached(layers_dir, name)


def detach_layer(layers_dir: Path, diff_id: str) -> bytes | None:
    """Take an unpacked layer out of the store with one rename (into ``tmp/``).

    Returns its name there for ``purge_detached``, or None when it was not
    there. Quick whatever the layer's size: callers holding a lock purge after.
    """
    path = layer_path(layers_dir, diff_id)
    if not os.path.lexists(path):
        return None
    name = _scratch_name()
    try:
        scratch = _ensure_dir(Path(layers_dir) / "tmp")
        parent = os.open(path.parent, _WALK)
        scratch_fd = os.open(scratch, _WALK)
        try:
            os.rename(path.name, name, src_dir_fd=parent, dst_dir_fd=scratch_fd)
        finally:
            os.close(parent)
            os.close(scratch_fd)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise LayerError(f"cannot remove layer {_short(diff_id)}: {e.strerror}") from e
    return name


def purge_detached(layers_dir: Path, name: bytes) -> None:
    """Delete what ``detach_layer`` moved aside."""
    try:
        scratch_fd = os.open(Path(layers_dir) / "tmp", _WALK)
        try:
            _remove_tree(scratch_fd, name, scratch_fd)
        finally:
            os.close(scratch_fd)
    except FileNotFoundError:
        return  # clean_temp of a helper starting meanwhile took it
    except OSError as e:
        raise LayerError(f"cannot remove a layer's files: {e.strerror}") from e


def clean_temp(layers_dir: Path) -> None:
    """Remove what interrupted unpacks left behind.

    Every user's helper shares the layer store: scratch names carry the pid of the
    helper that made them, and what a helper still running works on is left alone.
    """
    scratch = Path(layers_dir) / "tmp"
    if not os.path.lexists(scratch):
        return
    try:
        fd = os.open(scratch, _OPEN_DIR)
        try:
            for name in os.listdir(fd):
                if not _in_use(name):
                    _remove_tree(fd, os.fsencode(name), fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise LayerError(f"cannot clean {scratch}: {e.strerror}") from e


# --- unpacking -----------------------------------------------------------------


class _Blob(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def seekable(self) -> bool: ...


def unpack_layer(
    source: _Blob, layers_dir: Path, *, diff_id: str, digest: str | None = None,
    budget: Budget | None = None,
) -> int:
    """Unpack the layer blob read from ``source`` (read once, sequentially).

    The blob may be a plain, gzip or zstd tar. It must hash to ``digest`` when
    given, and the tar to ``diff_id``; the layer appears at ``layer_path()`` only
    then. Returns the bytes of regular-file content in the layer (hard links
    counted once). When the layer is already there, a pipe is read to its end
    and nothing else happens. Raises DigestMismatch for content that does not
    match its digests, LayerError for a tar that is corrupt or tries to escape
    its directory or passes a limit of ``budget`` (default: ``UnpackLimits()``),
    Cancelled when the budget's request is cancelled; nothing is left behind.
    """
    final = layer_path(layers_dir, diff_id)
    if digest is not None:
        _hex(digest)
    if budget is None:
        budget = Budget(UnpackLimits(), _short(diff_id))
    if has_layer(layers_dir, diff_id):
        _drain(source, budget)
        return layer_size(layers_dir, diff_id)
    layers_dir = Path(layers_dir)
    try:
        _ensure_dir(layers_dir)
        _ensure_dir(final.parent)
        scratch = _ensure_dir(layers_dir / "tmp")
        scratch_fd = os.open(scratch, _WALK)
    except OSError as e:
        raise LayerError(f"cannot prepare the layer store {layers_dir}: {e.strerror}") from e
    try:
        temp = _make_temp(scratch_fd, _hex(diff_id)[:12])
        try:
            size = _unpack_into(source, scratch_fd, temp, diff_id, digest, budget)
            try:
                os.rename(temp, final, src_dir_fd=scratch_fd)
            except OSError as e:
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not has_layer(
                    layers_dir, diff_id
                ):
                    raise
                # Another unpack of the same layer won the race: keep its copy.
                _discard(scratch_fd, temp)
            return size
        except BaseException:
            _discard(scratch_fd, temp)
            raise
    except OSError as e:
        raise LayerError(f"cannot store layer {_short(diff_id)}: {e.strerror or e}") from e
    finally:
        os.close(scratch_fd)


def _discard(scratch_fd: int, temp: bytes) -> None:
    try:
        _remove_tree(scratch_fd, temp, scratch_fd)
    except OSError:
        pass  # clean_temp() at the next start removes what is left


def _unpack_into(
    source: _Blob, scratch_fd: int, temp: bytes, diff_id: str, digest: str | None,
    budget: Budget,
) -> int:
    raw = _RawStream(source, budget)
    tar_stream = _TarStream(_decoder(raw), budget)
    root = os.open(temp, _OPEN_DIR, dir_fd=scratch_fd)
    try:
        extractor = _Extractor(root, scratch_fd, _short(diff_id), budget)
        try:
            _read_tar(tar_stream, extractor)
        finally:
            extractor.close()
        while tar_stream.read(_CHUNK):  # padding after the end-of-archive blocks
            pass
        while raw.read(_CHUNK):
            pass
        if digest is not None and raw.digest() != digest:
            raise DigestMismatch(
                f"layer blob {_short(digest)} does not match its digest (got "
                f"{_short(raw.digest())}): the download is damaged; pull the image again"
            )
        if tar_stream.digest() != diff_id:
            raise DigestMismatch(
                f"layer {_short(diff_id)} unpacks to {_short(tar_stream.digest())}, not its "
                "diff_id: the image is damaged; pull it again"
            )
        extractor.finish()
        # Counted on disk: later entries may have replaced earlier files.
        return _tree_size(root)
    finally:
        os.close(root)


def _read_tar(stream: _TarStream, extractor: _Extractor) -> None:
    tar = _open_tar(stream, extractor.label)
    if tar is None:
        return
    with tar:
        try:
            while True:
                member = tar.next()
                if member is None:
                    return
                # Stream mode keeps every header it read; the extractor needs none of them.
                del tar.members[:]  # type: ignore[attr-defined]
                stream.data_end = member.offset_data + member.size
                extractor.apply(tar, member)
        except (tarfile.TarError, ValueError, EOFError) as e:
            # tarfile raises a few plain ValueErrors on malformed sparse or PAX headers.
            raise LayerError(f"layer {extractor.label} is not a valid tar: {e}") from e


def _open_tar(stream: _TarStream, label: str) -> tarfile.TarFile | None:
    try:
        return tarfile.open(
            fileobj=cast("IO[bytes]", stream),
            mode="r|",
            bufsize=_TAR_BUFFER,
            encoding="utf-8",
            errors="surrogateescape",
            tarinfo=_EntryHeader,
        )
    except tarfile.ReadError as e:
        if stream.size == 0:
            return None  # an empty blob is an empty layer, as docker has it
        raise LayerError(f"layer {label} is not a valid tar: {e}") from e
    except (tarfile.TarError, ValueError, EOFError) as e:
        raise LayerError(f"layer {label} is not a valid tar: {e}") from e


class _EntryHeader(tarfile.TarInfo):
    """tarfile's header, except that a header cut short or damaged after the first one
    is an error, as in Go's reader: tarfile would take it for the end of the archive
    and silently drop the rest. The tar's end is a block of zeros, or nothing at all
    where a header would start."""

    @classmethod
    def fromtarfile(cls, tar: tarfile.TarFile) -> Self:
        try:
            return super().fromtarfile(tar)
        except (TruncatedHeaderError, InvalidHeaderError) as e:
            if tar.offset == 0:
                raise tarfile.ReadError("it does not start with a tar header: it is not a "
                                        "tar archive") from None
            if isinstance(e, TruncatedHeaderError):
                raise tarfile.ReadError("it ends in the middle of an entry's header "
                                        "(the layer is truncated)") from None
            raise tarfile.ReadError(f"damaged entry header ({e})") from None


class _Extractor:
    """Applies tar entries under ``root``, a private directory, one at a time."""

    def __init__(self, root: int, scratch: int, label: str, budget: Budget) -> None:
        self.root = root
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
        raw = text.encode("utf-8", "surrogateescape")
        lead = f"is a hard link to {text!r}, which " if link else ""
        if b"\0" in raw:
            self._refuse(entry, f"{lead}holds a NUL byte")
        if raw.startswith(b"/"):
            self._refuse(entry, f"{lead}is an absolute path")
        parts = tuple(part for part in raw.split(b"/") if part not in (b"", b"."))
        if b".." in parts:
            self._refuse(entry, f"{lead}has a '..' component: it would escape the layer")
        return parts

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
        fd = os.open(".", _WALK, dir_fd=self.root)
        try:
            for i, part in enumerate(parts):
                try:
                    child = os.open(part, _WALK, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        self._refuse(name, f"needs {_show(parts[: i + 1])!r}, which does not exist")
                    # Tars may omit parent directories: make them as docker does.
                    os.mkdir(part, 0o755, dir_fd=fd)
                    os.chmod(part, 0o755, dir_fd=fd)  # whatever the umask
                    child = os.open(part, _WALK, dir_fd=fd)
                except OSError as e:
                    if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                        raise
                    self._refuse(
                        name,
                        f"lies under {_show(parts[: i + 1])!r}, which is a symlink or not a "
                        "directory",
                    )
                os.close(fd)
                fd = child
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _clear(self, parent: int, parts: tuple[bytes, ...]) -> None:
        """Remove what an earlier entry left at this name, without following it."""
        name = parts[-1]
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            self._forget_parent()  # it may lie in the tree that goes away
            _remove_tree(parent, name, self.scratch)
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
        fd = os.open(name, _OPEN_DIR, dir_fd=parent)
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
                while chunk := content.read(_CHUNK):
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
                fd = os.open(".", _OPEN_DIR, dir_fd=parent)
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


def _show(parts: tuple[bytes, ...]) -> str:
    return b"/".join(parts).decode("utf-8", "backslashreplace")


def _short(digest: str) -> str:
    return digest[:19] if digest.startswith("sha256:") else digest


# --- streams -------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _RawStream:
    """The blob as it arrives, hashed; the first bytes can be peeked at once."""

    def __init__(self, source: _Blob, budget: Budget) -> None:
        self._source = source
        self._budget = budget
        self._hash = hashlib.sha256()
        self._peeked = b""

    def _pull(self, size: int) -> bytes:
        try:
            data = self._source.read(size) or b""
        except OSError as e:
            raise LayerError(f"cannot read the layer blob: {e.strerror or e}") from e
        self._budget.blob(len(data))
        self._hash.update(data)
        return data

    def peek(self, size: int) -> bytes:
        while len(self._peeked) < size:
            data = self._pull(size - len(self._peeked))
            if not data:
                break
            self._peeked += data
        return self._peeked[:size]

    def read(self, size: int = -1, /) -> bytes:
        if self._peeked:
            data, self._peeked = self._peeked, b""
            return data
        return self._pull(size if size > 0 else _CHUNK)

    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class _GzipStream:
    """Inflates gzip (several members too) with zlib, never more than asked at once."""

    def __init__(self, raw: _RawStream) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(31)
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        limit = size if size > 0 else _CHUNK
        try:
            while True:
                if self._pending:
                    if self._inflate.eof:
                        self._inflate = zlib.decompressobj(31)
                    data = self._inflate.decompress(self._pending, limit)
                    if self._inflate.eof:
                        self._pending = self._inflate.unused_data
                    else:
                        self._pending = self._inflate.unconsumed_tail
                    if data:
                        return data
                    continue
                self._pending = self._raw.read(_CHUNK)
                if not self._pending:
                    if not self._inflate.eof:
                        raise LayerError("the layer blob ends in the middle of its gzip stream")
                    return b""
        except zlib.error as e:
            raise LayerError(f"the layer blob is not valid gzip: {e}") from e


class _ZstdStream:
    def __init__(self, raw: _RawStream) -> None:
        import zstandard  # only zstd layers pay for the import

        self._error = zstandard.ZstdError
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            cast("IO[bytes]", raw), read_size=_CHUNK, read_across_frames=True, closefd=False
        )

    def read(self, size: int = -1, /) -> bytes:
        try:
            return bytes(self._reader.read(size if size > 0 else _CHUNK))
        except self._error as e:
            raise LayerError(f"the layer blob is not valid zstd: {e}") from e


def _decoder(raw: _RawStream) -> _Readable:
    head = raw.peek(512)
    if head.startswith(_GZIP_MAGIC):
        return _GzipStream(raw)
    if head.startswith(_ZSTD_MAGIC):
        return _ZstdStream(raw)
    if head.startswith(_XZ_MAGIC) or (
        head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == _BZIP2_BLOCK
    ):
        raise LayerError("the layer is compressed with xz or bzip2, which Skiff does not support")
    return raw


class _TarStream:
    """The uncompressed tar, hashed and counted as tarfile reads it.

    A tar may end right after its last entry's data, with neither that data's
    padding to 512 bytes nor the end-of-archive blocks (what Debian's ``umoci
    insert`` writes): Go's reader, and so docker, accept it. When the tar ends
    exactly where the last entry's data does (``data_end``), the padding is made
    up here, outside the digest and the count; a tar ending anywhere else inside
    an entry is still refused.
    """

    def __init__(self, decoded: _Readable, budget: Budget) -> None:
        self._decoded = decoded
        self._budget = budget
        # An uncompressed blob is its tar: the blob's hash is the tar's, computed once.
        self._raw = decoded if isinstance(decoded, _RawStream) else None
        self._hash = hashlib.sha256()
        self.size = 0
        self.data_end = 0  # where the data of the entry tarfile last returned ends
        self._padded = False

    def read(self, size: int = -1, /) -> bytes:
        if size == 0:
            return b""
        data = self._decoded.read(size)
        if not data:
            return self._missing_padding()
        self._budget.tar(len(data))
        if self._raw is None:
            self._hash.update(data)
        self.size += len(data)
        return data

    def _missing_padding(self) -> bytes:
        if self._padded or self.size != self.data_end or self.size % tarfile.BLOCKSIZE == 0:
            return b""
        self._padded = True
        return bytes(-self.size % tarfile.BLOCKSIZE)

    def digest(self) -> str:
        if self._raw is not None:
            return self._raw.digest()
        return "sha256:" + self._hash.hexdigest()


def _drain(source: _Blob, budget: Budget) -> None:
    """Read a pipe to its end so its writer finishes; a seekable file needs nothing."""
    try:
        if source.seekable():
            return
    except (AttributeError, OSError, ValueError):
        pass
    try:
        while data := source.read(_CHUNK):
            budget.blob(len(data))
    except OSError as e:
        raise LayerError(f"cannot read the layer blob: {e.strerror or e}") from e


# --- directories ---------------------------------------------------------------


def _ensure_dir(path: Path) -> Path:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise LayerError(f"{path} is not a directory") from None
    return path


def _make_temp(scratch: int, prefix: str) -> bytes:
    while True:
        name = f"{prefix}-{os.getpid()}-{os.urandom(6).hex()}".encode()
        try:
            os.mkdir(name, 0o700, dir_fd=scratch)
            return name
        except FileExistsError:
            continue


def _remove_tree(parent: int, name: bytes, scratch: int) -> None:
    """``rm -rf parent/name`` that never follows a symlink and ignores depth.

    Each directory is moved into ``scratch`` (same filesystem) before it is
    emptied, its subdirectories moved out next to it, so only one directory is
    open at a time and no recursion is needed, however deep the tree.
    """
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=parent)
        return
    first = _scratch_name()
    os.rename(name, first, src_dir_fd=parent, dst_dir_fd=scratch)
    pending = [first]
    while pending:
        current = pending.pop()
        fd = os.open(current, _OPEN_DIR, dir_fd=scratch)
        try:
            with os.scandir(fd) as entries:
                listing = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
            for child, is_dir in listing:
                if is_dir:
                    moved = _scratch_name()
                    os.rename(child, moved, src_dir_fd=fd, dst_dir_fd=scratch)
                    pending.append(moved)
                else:
                    os.unlink(child, dir_fd=fd)
        finally:
            os.close(fd)
        os.rmdir(current, dir_fd=scratch)


def _scratch_name() -> bytes:
    return f".rm-{os.getpid()}-{os.urandom(8).hex()}".encode()


def _in_use(name: str) -> bool:
    """A scratch entry of another helper that is still running (``PREFIX-PID-RANDOM``)."""
    parts = name.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and is_alive(pid)
