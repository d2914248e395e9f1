"""Paths resolved inside a root directory, as root: the one resolver of the helper.

The helper writes where hostile names decide the place: a layer tar's entries
(engine/helper/layers/) and a tar copied into a container (engine/helper/
runtime/fsview/). Both resolve through here, from a directory fd and never by
a host path:

- ``split_name`` turns an entry's name into components, refusing NUL bytes and
  ``..`` (and absolute names, where the caller says so);
- ``RootDir.open_dir`` opens (or makes) the directory those components name
  below the root, in one of two ways. ``follow_links=False`` (a layer: its
  content is resolved inside a container later, never here) walks one
  component at a time with ``O_NOFOLLOW``, so no symlink is crossed at all.
  ``follow_links=True`` (a container's filesystem, as ``docker cp`` sees it)
  resolves with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a symlink,
  absolute or relative, is followed as if the root were "/", never out of it.

Refusals are ``Blocked`` with the components that stopped the walk; each caller
words them for its user.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Sequence

__all__ = [
    "IN_ROOT",
    "ONE_NAME",
    "RESOLVE_BENEATH",
    "RESOLVE_IN_ROOT",
    "RESOLVE_NO_MAGICLINKS",
    "RESOLVE_NO_SYMLINKS",
    "RESOLVE_NO_XDEV",
    "WALK",
    "Blocked",
    "RootDir",
    "openat2",
    "split_name",
]

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

# A path of a container, resolved as its processes would (the root is "/").
IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
# One name in a directory: no symlink, not even as the last component.
ONE_NAME = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS

_SYS_OPENAT2 = 437  # the same on every architecture since Linux 5.6 (x86_64, aarch64, ...)

# Opens a directory to walk through it: never a symlink, never anything but a dir.
WALK = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: str, flags: int, resolve: int, mode: int = 0) -> int:
    """openat2(2): ``path`` resolved from ``dirfd`` under the ``resolve`` rules.

    OSError as open(2) gives it; ENOSYS on kernels before 5.6."""
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    raw = os.fsencode(path or ".")
    err = 0
    for _ in range(16):  # EAGAIN: a rename raced a RESOLVE_IN_ROOT walk; try again
        fd = _libc.syscall(_SYS_OPENAT2, ctypes.c_int(dirfd), ctypes.c_char_p(raw),
                           ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
        if fd >= 0:
            return int(fd)
        err = ctypes.get_errno()
        if err != errno.EAGAIN:
            break
    raise OSError(err, os.strerror(err), path)


class Blocked(Exception):
    """A name the resolver will not follow. ``reason`` is one of:

    ``nul`` (a NUL byte), ``absolute``, ``dotdot`` (a ``..`` component),
    ``missing`` (``parts`` does not exist and was not to be made),
    ``not_dir`` (``parts`` is a symlink or not a directory).
    """

    def __init__(self, reason: str, parts: tuple[str | bytes, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.parts = parts


def split_name(name: str, *, absolute_ok: bool) -> tuple[str, ...]:
    """The components of an entry's name below its root ("." and empty ones dropped).

    Refuses a NUL byte, a ``..`` component and, unless ``absolute_ok`` (then a
    leading "/" means the root), an absolute name."""
    if "\0" in name:
        raise Blocked("nul")
    if name.startswith("/") and not absolute_ok:
        raise Blocked("absolute")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise Blocked("dotdot")
    return parts


class RootDir:
    """A directory tree entered through its root's fd only (the fd stays the caller's)."""

    def __init__(self, root: int, *, follow_links: bool) -> None:
        self.root = root
        self.follow_links = follow_links

    def open_dir(self, parts: Sequence[str] | Sequence[bytes], *, create: bool, mode: int = 0o755,
                 existing: int = 0) -> int:
        """An O_PATH fd of the directory ``parts`` below the root.

        With ``create``, missing directories are made with ``mode`` as tar does
        (whatever the umask, when not following links), except the first
        ``existing`` components, which must be there (FileNotFoundError). Blocked
        when a component is missing (without ``create``) or, not following links,
        a symlink or not a directory; OSError for anything else."""
        if self.follow_links:
            return self._resolve(tuple(parts), create, mode, existing)
        return self._walk(tuple(parts), create, mode)

    def _walk(self, parts: tuple[str | bytes, ...], create: bool, mode: int) -> int:
        fd = os.open(".", WALK, dir_fd=self.root)
        try:
            for i, part in enumerate(parts):
                try:
                    child = os.open(part, WALK, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise Blocked("missing", parts[: i + 1]) from None
                    os.mkdir(part, mode, dir_fd=fd)
                    os.chmod(part, mode, dir_fd=fd)  # whatever the umask
                    child = os.open(part, WALK, dir_fd=fd)
                except OSError as e:
                    if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                        raise
                    raise Blocked("not_dir", parts[: i + 1]) from None
                os.close(fd)
                fd = child
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _resolve(self, parts: tuple[str | bytes, ...], create: bool, mode: int,
                 existing: int) -> int:
        path = "/" + "/".join(map(os.fsdecode, parts))
        try:
            return openat2(self.root, path, os.O_PATH | os.O_DIRECTORY, IN_ROOT)
        except FileNotFoundError:
            if len(parts) <= existing:
                raise
            if not create:
                raise Blocked("missing", parts) from None
        parent = self._resolve(parts[:-1], create, mode, existing)
        try:
            os.mkdir(parts[-1], mode, dir_fd=parent)
        except FileExistsError:
            pass
        finally:
            os.close(parent)
        return openat2(self.root, path, os.O_PATH | os.O_DIRECTORY, IN_ROOT)
