"""A container's files from the outside: browse, read, copy in and out (``skiff cp``);
a volume's the same way, whether a container mounts it or not.

The container's side runs in the helper, in a process that sees nothing but the
container's root (engine/helper/runtime/fsview/). The host's side runs here,
in the caller's own process with the caller's own permissions, so a desktop
user reads and writes only the host paths they could anyway: the helper never
gets a host path. Between the two, tar streams flow over pipes the helper
hands back.

Where a copy lands follows ``docker cp``: :func:`plan_copy` is that rule as a
pure function, the same in both directions.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from engine.containers.bindsources import BindSources
from engine.errors import (
    ContainerNotFound,
    HelperError,
    InvalidArgument,
    NotFound,
    SkiffError,
    VolumeNotFound,
    from_kind,
)
from engine.wire.requests import ContainerFs, ContainerNamespaces, Request, VolumeFs

if TYPE_CHECKING:
    import tarfile  # imported where a copy runs: not by every command that opens the engine

R = TypeVar("R")


class HelperCall(Protocol):
    """Sends one helper request, answers its typed reply (the services' Shared.call)."""

    async def __call__(self, request: Request[R], fds: list[int] | None = None) -> R: ...


# A container's bind sources, opened by us (engine/containers/bindsources.py).
SourceOpener = Callable[[str], Awaitable[BindSources]]

__all__ = [
    "NAMESPACE_KINDS",
    "CopyPlan",
    "FileEntry",
    "FileService",
    "NamespaceInfo",
    "clean_path",
    "plan_copy",
]

#: not a missing file but a missing container or volume: said as it is
_OWNER_GONE = (ContainerNotFound, VolumeNotFound)

NAMESPACE_KINDS = ("pid", "mnt", "uts", "ipc", "net", "user", "cgroup", "time")
MAX_READ = 1 << 30
_CHUNK = 1 << 16
_TYPE_BITS = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "symlink": stat.S_IFLNK,
              "char": stat.S_IFCHR, "block": stat.S_IFBLK, "fifo": stat.S_IFIFO,
              "socket": stat.S_IFSOCK}


@dataclass(frozen=True)
class FileEntry:
    """One file of a container's merged root filesystem, as ``ls -l`` would tell."""

    name: str
    path: str  # absolute, inside the container
    type: str  # file | dir | symlink | char | block | fifo | socket
    size: int
    mode: int  # permission bits with set-id and sticky (stat.S_IMODE)
    uid: int
    gid: int
    mtime_ns: int
    link_target: str = ""  # for a symlink: where it points, as written

    @property
    def is_dir(self) -> bool:
        return self.type == "dir"

    @property
    def mode_string(self) -> str:
        """``drwxr-xr-x``."""
        return stat.filemode(_TYPE_BITS.get(self.type, 0) | self.mode)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileEntry:
        return cls(name=str(data["name"]), path=str(data["path"]), type=str(data["type"]),
                   size=int(data["size"]), mode=int(data["mode"]), uid=int(data["uid"]),
                   gid=int(data["gid"]), mtime_ns=int(data["mtime_ns"]),
                   link_target=str(data.get("link_target") or ""))


@dataclass(frozen=True)
class NamespaceInfo:
    """One namespace of a running container next to the host's (PID 1's) of that kind."""

    kind: str  # pid | mnt | uts | ipc | net | user | cgroup | time
    container_inode: int
    host_inode: int
    shared: bool  # the container uses the host's: nothing of this kind is isolated


# -- docker cp's rule: what lands where ------------------------------------------------------

@dataclass(frozen=True)
class CopyPlan:
    """Unpack the archive in ``directory``, its top entry named ``name``.

    ``name`` "." puts a directory's contents straight into ``directory``.
    """

    directory: str
    name: str


def clean_path(path: str) -> str:
    """A container path made absolute and lexically clean; relative means from "/"."""
    if "\x00" in path or len(path) > 4095:
        raise InvalidArgument(f"invalid path in the container: {path[:80]!r}")
    cleaned = posixpath.normpath("/" + path)
    return "/" + cleaned.lstrip("/")


def plan_copy(source: str, source_is_dir: bool, dest: str, dest_kind: str) -> CopyPlan:
    """docker cp: ``source`` (as typed) onto ``dest`` (as typed) that is a dir, file or missing.

    A file goes into an existing directory under its own name, or becomes
    ``dest``. A directory goes into an existing directory (its contents only
    when ``source`` ends in "/."), or becomes ``dest``.
    """
    base = posixpath.basename(source.rstrip("/"))
    contents = source_is_dir and base in ("", ".")
    target = posixpath.normpath(dest) if dest else "."
    if target.startswith("//"):
        target = "/" + target.lstrip("/")
    if dest_kind == "dir":
        return CopyPlan(target, "." if contents else base)
    if dest_kind == "file":
        if source_is_dir:
            raise InvalidArgument(f"cannot copy a directory to a file: {dest}")
        if dest.endswith("/"):
            raise InvalidArgument(f"not a directory: {dest}")
    elif dest.endswith("/") and not source_is_dir:
        raise InvalidArgument(f"the destination directory must exist: {dest}")
    if target == "/":
        raise InvalidArgument("cannot replace the root directory")
    parent, name = posixpath.split(target)
    return CopyPlan(parent or ".", name)


def _host_kind(path: str) -> str:
    try:
        return "dir" if stat.S_ISDIR(os.stat(path).st_mode) else "file"
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:  # "file/": the file is there, it is just no directory
        return "file" if path.endswith("/") and os.path.lexists(path.rstrip("/")) \
            else "missing"
    except OSError as exc:
        raise InvalidArgument(f"cannot use {path}: {exc.strerror}") from None


def _host_path(path: Path | str) -> str:
    """Absolute, keeping docker's meaningful trailing "/" or "/."."""
    text = os.fspath(path)
    absolute = os.path.abspath(text)
    if text.endswith("/.") or text == ".":
        return absolute.rstrip("/") + "/."
    if text.endswith("/") and absolute != "/":
        return absolute + "/"
    return absolute


# -- host side: tar streams in the caller's process -----------------------------------------

def _write_host_tar(out_fd: int, source: str, name: str) -> None:
    """A tar of the host's ``source`` named ``name`` ("." for a directory's contents)."""
    import tarfile

    with os.fdopen(out_fd, "wb") as out, \
            tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        try:
            if name == ".":
                for child in sorted(os.listdir(source)):
                    tar.add(os.path.join(source, child), arcname=child)
            else:
                tar.add(source, arcname=name)
        except BrokenPipeError:
            raise
        except OSError as exc:
            where = exc.filename or source
            raise InvalidArgument(f"cannot read {where}: {exc.strerror or exc}") from None


def _host_filter(archive: bool) -> Callable[[tarfile.TarInfo, str], tarfile.TarInfo | None]:
    """Unpack what the container sent without letting a name or link leave ``dest``."""
    import tarfile

    def check(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        if member.ischr() or member.isblk():
            return None  # device files stay in the container
        checked = tarfile.tar_filter(member, dest)  # no absolute or escaping names
        if member.islnk():
            target = os.path.realpath(os.path.join(dest, member.linkname))
            if os.path.commonpath([target, os.path.realpath(dest)]) != os.path.realpath(dest):
                raise tarfile.LinkOutsideDestinationError(member, target)
        if archive:
            return checked.replace(mode=member.mode, deep=False)
        return checked.replace(mode=member.mode, uid=os.getuid(), gid=os.getgid(), uname="",
                               gname="", deep=False)

    return check


def _extract_host_tar(in_fd: int, directory: str, archive: bool) -> None:
    import tarfile

    with os.fdopen(in_fd, "rb") as source, tarfile.open(fileobj=source, mode="r|") as tar:
        try:
            tar.extractall(directory, numeric_owner=True, filter=_host_filter(archive))
        except tarfile.FilterError as exc:
            raise InvalidArgument(f"refusing a file from the container: {exc}") from None
        except OSError as exc:
            where = exc.filename or directory
            raise InvalidArgument(f"cannot write {where}: {exc.strerror or exc}") from None


def _read_all(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _pump_out(fd: int, out: IO[bytes]) -> None:
    with os.fdopen(fd, "rb") as source:
        while chunk := source.read(_CHUNK):
            out.write(chunk)
    out.flush()


def _pump_in(source: IO[bytes], fd: int) -> None:
    with os.fdopen(fd, "wb") as sink:
        while chunk := source.read(_CHUNK):
            sink.write(chunk)


def _close(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


# -- the service ------------------------------------------------------------------------------

class FileService:
    """The engine's file verbs; containers are named by ID (and name, for messages),
    or with ``volume`` volumes by name (twice)."""

    def __init__(self, call: HelperCall, sources: SourceOpener | None = None, *,
                 volume: bool = False) -> None:
        self.call = call
        self.sources = sources  # a stopped container's binds are shown from these
        self.volume = volume

    def _what(self, name: str) -> str:
        return f"volume {name}" if self.volume else f"container {name}"

    def _error(self, kind: str, message: str, path: str, name: str) -> SkiffError:
        error = from_kind(kind, message)
        if isinstance(error, NotFound) and not isinstance(error, _OWNER_GONE):
            return NotFound(f"Could not find the file {path} in {self._what(name)}")
        return error

    async def _open(self, cid: str, name: str, op: str, path: str, *, follow: bool = False,
                    limit: int = 0, arcname: str = ".", archive: bool = False
                    ) -> tuple[FileEntry, list[int]]:
        opened = await self.sources(cid) if self.sources is not None else BindSources([], [])
        request: Request[Any] = VolumeFs(
            volume=cid, op=op, path=path, follow=follow, limit=limit, name=arcname,
            archive=archive) if self.volume else ContainerFs(
            id=cid, op=op, path=path, follow=follow, limit=limit, name=arcname,
            archive=archive, sources=opened.sources)
        try:
            reply = await self.call(request, opened.fds)
        except NotFound as exc:
            if isinstance(exc, _OWNER_GONE):
                raise
            raise NotFound(f"Could not find the file {path} in {self._what(name)}") from None
        finally:
            opened.close()
        return FileEntry.from_json(reply.entry), reply.fds

    async def _finish(self, status_fd: int, path: str, name: str) -> None:
        """The fsview process's last word: raise what went wrong, if anything did."""
        loop = asyncio.get_running_loop()
        data = await loop.run_in_executor(None, _read_all, status_fd)
        lines = [line for line in data.splitlines() if line.strip()]
        if not lines:
            raise HelperError(f"looking into {self._what(name)} stopped before it finished")
        last = json.loads(lines[-1])
        if not last.get("ok"):
            raise self._error(str(last.get("kind", "helper")), str(last.get("message", "")),
                              path, name)

    async def stat(self, cid: str, name: str, path: str, follow: bool = False) -> FileEntry:
        entry, fds = await self._open(cid, name, "stat", clean_path(path), follow=follow)
        _close(fds)
        return entry

    async def list_dir(self, cid: str, name: str, path: str) -> list[FileEntry]:
        path = clean_path(path)
        data = await self._read_whole(cid, name, "list", path)
        return [FileEntry.from_json(json.loads(line)) for line in data.splitlines() if line]

    async def read(self, cid: str, name: str, path: str, limit: int) -> bytes:
        if not 0 <= limit <= MAX_READ:
            raise InvalidArgument(f"the read limit must be between 0 and {MAX_READ} bytes")
        return await self._read_whole(cid, name, "read", clean_path(path), limit=limit)

    async def _read_whole(self, cid: str, name: str, op: str, path: str,
                          limit: int = 0) -> bytes:
        """What a look at ``path`` sends back (a listing, a file's bytes), read whole,
        then its status."""
        _, (data_fd, status_fd) = await self._open(cid, name, op, path, limit=limit)
        loop = asyncio.get_running_loop()
        try:
            data = await loop.run_in_executor(None, _read_all, data_fd)
        except BaseException:
            _close([status_fd])
            raise
        await self._finish(status_fd, path, name)
        return data

    async def export_archive(self, cid: str, name: str, path: str, out: IO[bytes], *,
                     follow: bool = False, arcname: str = "") -> FileEntry:
        """A tar of ``path`` to ``out``, its top entry named ``arcname`` (default: basename)."""
        path = clean_path(path)
        arcname = arcname or posixpath.basename(path) or "."
        entry, (data_fd, status_fd) = await self._open(cid, name, "get", path, follow=follow,
                                                       arcname=arcname)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, _pump_out, data_fd, out)
        except BaseException:
            _close([status_fd])
            raise
        await self._finish(status_fd, path, name)
        return entry

    async def import_archive(self, cid: str, name: str, source: IO[bytes], directory: str, *,
                      archive: bool = False) -> None:
        """Unpack the tar stream ``source`` in the container's ``directory``."""
        directory = clean_path(directory)
        _, (data_fd, status_fd) = await self._open(cid, name, "put", directory,
                                                   archive=archive)
        await self._put(status_fd, directory, name, _pump_in, source, data_fd)

    async def copy_from(self, cid: str, name: str, container_path: str, host_dest: Path | str,
                        *, follow: bool = False, archive: bool = False) -> None:
        path = clean_path(container_path)
        source = await self.stat(cid, name, path, follow=follow)
        dest = _host_path(host_dest)
        plan = plan_copy(container_path, source.is_dir, dest, _host_kind(dest))
        if not os.path.isdir(plan.directory):
            raise InvalidArgument(f'invalid output path: directory "{plan.directory}" does '
                                  "not exist")
        _, (data_fd, status_fd) = await self._open(cid, name, "get", path, follow=follow,
                                                   arcname=plan.name)
        import tarfile

        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, _extract_host_tar, data_fd, plan.directory,
                                       archive)
        except tarfile.TarError as exc:
            await self._finish(status_fd, path, name)  # its reason first, if it had one
            raise InvalidArgument(f"the copy from {self._what(name)} broke off: {exc}") \
                from None
        except BaseException:
            _close([status_fd])
            raise
        await self._finish(status_fd, path, name)

    async def copy_to(self, cid: str, name: str, host_src: Path | str, container_path: str,
                      *, follow: bool = False, archive: bool = False) -> None:
        src = _host_path(host_src)
        plain = src.rstrip("/").removesuffix("/.") or "/"
        try:
            st = os.stat(plain) if follow else os.lstat(plain)
        except OSError as exc:
            raise InvalidArgument(f"lstat {plain}: {(exc.strerror or str(exc)).lower()}") \
                from None
        readable = os.path.realpath(plain) if follow else plain
        try:
            dest = await self.stat(cid, name, container_path, follow=True)
            dest_kind = "dir" if dest.is_dir else "file"
        except NotFound as exc:
            if isinstance(exc, _OWNER_GONE):
                raise
            dest_kind = "missing"
        plan = plan_copy(src, stat.S_ISDIR(st.st_mode), clean_path(container_path)
                         + ("/" if container_path.endswith("/") else ""), dest_kind)
        directory = clean_path(plan.directory)
        _, (data_fd, status_fd) = await self._open(cid, name, "put", directory,
                                                   archive=archive)
        await self._put(status_fd, directory, name, _write_host_tar, data_fd, readable,
                        plan.name)

    async def _put(self, status_fd: int, directory: str, name: str,
                   send: Callable[..., None], *args: Any) -> None:
        """``send(*args)`` writes a tar into a "put" look, off the loop; then its status
        (when the helper stopped reading, BrokenPipeError, the status says why)."""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, send, *args)
        except BrokenPipeError:
            pass  # it stopped reading: its last word says why
        except BaseException:
            _close([status_fd])
            raise
        await self._finish(status_fd, directory, name)

    async def namespaces(self, cid: str) -> list[NamespaceInfo]:
        rows = await self.call(ContainerNamespaces(id=cid))
        return [NamespaceInfo(row.kind, row.mine, row.host, row.mine == row.host)
                for row in rows]
