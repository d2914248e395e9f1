"""Finding a path inside the container's root: the view, lookups, the status pipe.

Every container path is resolved with openat2(RESOLVE_IN_ROOT |
RESOLVE_NO_MAGICLINKS) against the view's root (engine/helper/rootpath.py, the
resolver shared with layer unpacking), so no symlink in the container, absolute
or relative, leads to a host file.
"""

from __future__ import annotations

import errno
import json
import os
import posixpath
import stat
from dataclasses import dataclass
from typing import Any

from engine.helper import rootpath
from engine.helper.rootpath import IN_ROOT, ONE_NAME

__all__ = ["CHUNK", "IN_ROOT", "ONE_NAME", "Found", "FsError", "Reply", "View", "entry_json",
           "kind_of", "lookup", "open_regular", "openat2", "os_error"]

CHUNK = 1 << 16


def openat2(dirfd: int, path: str, flags: int, resolve: int, mode: int = 0) -> int:
    """openat2(2) (engine/helper/rootpath.py); FsError on kernels without it."""
    try:
        return rootpath.openat2(dirfd, path, flags, resolve, mode)
    except OSError as exc:
        if exc.errno == errno.ENOSYS:
            raise FsError("kernel_feature_missing", "looking inside containers needs Linux "
                          "5.6 or later (openat2)") from None
        raise


class FsError(Exception):
    """A failure for the user: ``kind`` is an engine.errors kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def os_error(exc: OSError, path: str) -> FsError:
    code = exc.errno
    if code in (errno.ENOENT, errno.ENOTDIR):
        return FsError("not_found", f"no such file or directory in the container: {path}")
    if code == errno.ELOOP:
        return FsError("invalid_argument", f"{path}: too many levels of symbolic links, or a "
                       "link the container may not follow")
    if code == errno.EROFS:
        return FsError("invalid_argument", f"{path} is on a read-only file system")
    if code == errno.EXDEV:
        return FsError("invalid_argument", f"{path} leads out of the container")
    return FsError("helper", f"{path}: {exc.strerror or exc}")



@dataclass
class View:
    root: int  # O_PATH fd of the container's "/"
    kernel_devs: frozenset[int]  # st_dev of kernel filesystems (running containers)



_TYPES = ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
          (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"),
          (stat.S_ISSOCK, "socket"))


def kind_of(mode: int) -> str:
    return next((name for test, name in _TYPES if test(mode)), "file")


def entry_json(name: str, path: str, st: os.stat_result, link_target: str = "") -> dict[str, Any]:
    """One file as the engine's FileEntry reads it."""
    return {"name": name, "path": path, "type": kind_of(st.st_mode), "size": st.st_size,
            "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
            "mtime_ns": st.st_mtime_ns, "link_target": link_target}


@dataclass
class Found:
    st: os.stat_result
    parent: int  # O_PATH fd of the parent directory (the root for "/")
    name: str  # "" for the root
    link_target: str = ""

    def close(self) -> None:
        os.close(self.parent)


def lookup(view: View, path: str, follow: bool) -> Found:
    """``path`` (absolute, clean) inside the container; FsError when it is not there."""
    parent_path, name = posixpath.split(path)
    try:
        parent = openat2(view.root, parent_path, os.O_PATH | os.O_DIRECTORY, IN_ROOT)
    except OSError as exc:
        raise os_error(exc, path) from None
    try:
        if not name:
            return Found(os.fstat(parent), parent, "")
        if follow:
            fd = openat2(view.root, path, os.O_PATH, IN_ROOT)
        else:
            fd = openat2(parent, name, os.O_PATH | os.O_NOFOLLOW, ONE_NAME)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        link = os.readlink(name, dir_fd=parent) if stat.S_ISLNK(st.st_mode) else ""
        return Found(st, parent, name, link)
    except OSError as exc:
        os.close(parent)
        raise os_error(exc, path) from None
    except BaseException:
        os.close(parent)
        raise


def open_regular(view: View, path: str, found: Found, follow: bool) -> int:
    """The file ``found`` names, opened for reading; refused unless a regular file."""
    if stat.S_ISDIR(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is a directory")
    if not stat.S_ISREG(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is not a regular file "
                      f"({kind_of(found.st.st_mode)})")
    if found.st.st_dev in view.kernel_devs:
        raise FsError("invalid_argument", f"{path} is on a kernel filesystem; read it with "
                      "exec inside the container")
    flags = os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK
    try:
        if follow or not found.name:
            fd = openat2(view.root, path, flags, IN_ROOT)
        else:
            fd = openat2(found.parent, found.name, flags | os.O_NOFOLLOW, ONE_NAME)
    except OSError as exc:
        raise os_error(exc, path) from None
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (found.st.st_dev, found.st.st_ino) or not stat.S_ISREG(
            st.st_mode):
        os.close(fd)
        raise FsError("conflict", f"{path} changed while it was being opened; try again")
    return fd



class Reply:
    """The status pipe: the first line says whether the path was found, the last how it ended."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, message: dict[str, Any]) -> None:
        try:
            os.write(self.fd, json.dumps(message).encode() + b"\n")
        except OSError:
            pass  # the caller went away
