"""Bind sources opened by the caller itself, so the kernel checks the caller's rights.

The privileged helper never resolves a host path a user names. At every start
(and for a look into a stopped container) the engine, running as the user,
opens each bind's source here and sends the descriptors with the request: the
kernel has checked the user's rights along the whole path, symbolic links
included, and a link swapped in afterwards changes nothing, since the helper
mounts the file the descriptor is open on.

Like ``docker run -v``, a source that does not exist is created as a
directory at start, as the user, so only where the user could create it.

A ``--device`` is one more bind of this kind (type "device", after the
container's own binds, as the helper records it): its node is reached by the
user, who must be able to open it for what its permissions say; the helper
checks that again, as the user, before it binds the node into /dev.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidArgument

if TYPE_CHECKING:
    from engine.wire.containerspec import ContainerSpec

__all__ = ["BindSources", "device_binds", "open_bind_source", "open_bind_sources"]

class BindSources:
    """Descriptors for a spec's binds: ``fds``, and ``sources``, the index in the
    spec's binds of the one each descriptor is. Closes them on exit."""

    def __init__(self, fds: list[int], sources: list[int]) -> None:
        self.fds = fds
        self.sources = sources

    def close(self) -> None:
        fds, self.fds = self.fds, []
        for fd in fds:
            os.close(fd)

    def __enter__(self) -> BindSources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def device_binds(spec: ContainerSpec) -> list[dict[str, Any]]:
    """A create request's binds, then its devices as binds: the helper's order."""
    return [*({"type": b.kind, "source": b.source, "target": b.target,
               "read_only": b.read_only} for b in spec.binds),
            *({"type": "device", "source": d.path_on_host, "target": d.path_in_container,
               "read_only": "w" not in d.permissions} for d in spec.devices or [])]


def open_bind_sources(binds: Sequence[dict[str, Any]], *, create: bool,
                      skip_missing: bool = False) -> BindSources:
    """Open the source of every bind (``type`` "bind") of a runtime spec's binds.

    ``create`` makes a missing source directory (a start); ``skip_missing`` leaves
    out one that cannot be opened (a look into a stopped container).
    """
    opened = BindSources([], [])
    try:
        for index, bind in enumerate(binds):
            kind = bind.get("type") or "bind"
            if kind not in ("bind", "device"):
                continue
            try:
                if kind == "device":
                    fd = open_device(str(bind["source"]), bool(bind.get("read_only")))
                else:
                    fd = open_bind_source(str(bind["source"]), bool(bind.get("read_only")),
                                          create=create)
            except InvalidArgument:
                if skip_missing:
                    continue
                raise
            opened.fds.append(fd)
            opened.sources.append(index)
    except BaseException:
        opened.close()
        raise
    return opened


def open_bind_source(path: str, read_only: bool, *, create: bool) -> int:
    """An open descriptor of ``path`` for a bind mount, checked by the kernel as us."""
    if not path.startswith("/"):
        raise InvalidArgument(f"bind source {path!r} must be an absolute path")
    try:
        fd = _open(path)
    except FileNotFoundError:
        if not create:
            raise InvalidArgument(f"bind source path does not exist: {path}") from None
        _create(path)
        try:
            fd = _open(path)
        except OSError as exc:
            raise _refusal(path, exc) from None
    except OSError as exc:
        raise _refusal(path, exc) from None
    try:
        if not read_only and not _writable(fd):
            raise InvalidArgument(f"you may not write {path}, so it cannot be mounted "
                                  "writable; mount it read-only (:ro)")
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_device(path: str, read_only: bool) -> int:
    """A device node for --device, reached as us (never opened: opening some has
    effects); refused unless we may read it, and write it when ``read_only`` is not set."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError as exc:
        raise InvalidArgument(f"error gathering device information while adding custom "
                              f"device {path!r}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        if not stat.S_ISCHR(os.fstat(fd).st_mode) and not stat.S_ISBLK(os.fstat(fd).st_mode):
            raise InvalidArgument(f"error gathering device information while adding custom "
                                  f"device {path!r}: not a device node")
        for mode, word in ((os.R_OK, "read"), (os.W_OK, "write")):
            if (mode == os.R_OK or not read_only) and \
                    not os.access(f"/proc/self/fd/{fd}", mode):
                raise InvalidArgument(f"you may not {word} device {path}, so the container "
                                      "cannot have it")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open(path: str) -> int:
    """Reach ``path`` (the kernel checks every directory on the way, as us), then open
    a directory or a regular file for reading (the kernel checks that too). Devices,
    sockets and FIFOs are only reached: opening some has effects (a watchdog arms);
    the helper checks our rights on them."""
    reached = os.open(path, os.O_PATH | os.O_CLOEXEC)
    mode = os.fstat(reached).st_mode
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        return reached
    try:
        return os.open(f"/proc/self/fd/{reached}", os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY
                       | (os.O_DIRECTORY if stat.S_ISDIR(mode) else 0))
    finally:
        os.close(reached)


def _create(path: str) -> None:
    """docker run -v: a missing source becomes a directory (mkdir -p, as us)."""
    try:
        os.makedirs(path, 0o755)
    except FileExistsError:  # a dangling symbolic link, or made by someone else just now
        return
    except OSError as exc:
        where = exc.filename or path
        raise InvalidArgument(f"error while creating mount source path '{path}': mkdir "
                              f"{where}: {(exc.strerror or str(exc)).lower()}") from None


def _writable(fd: int) -> bool:
    """May we write the file ``fd`` is open on? A read-only file system is no
    refusal: writes there fail by themselves, as with Docker."""
    if os.fstatvfs(fd).f_flag & os.ST_RDONLY:
        return True
    return os.access(f"/proc/self/fd/{fd}", os.W_OK)


def _refusal(path: str, exc: OSError) -> InvalidArgument:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return InvalidArgument(f"you may not read {path}, so it cannot be mounted")
    if exc.errno == errno.ENOENT:
        return InvalidArgument(f"bind source path does not exist: {path}")
    return InvalidArgument(f"bind source {path}: {(exc.strerror or str(exc)).lower()}")
