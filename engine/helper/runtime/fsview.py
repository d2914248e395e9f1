"""Inside a container's filesystem, from the helper: list, read, stat, tar out, tar in.

The helper runs this as a fresh ``python -S`` process per request: it is
multi-threaded and must not fork Python code, and setns(mnt) needs a
single-threaded process anyway. The process gets the container's root in one
of two ways:

- running or paused: it joins the container's mount namespace, so "/" is the
  container's root with its volumes and binds, what its processes see;
- stopped or created: it unshares a private mount namespace and mounts an
  overlay of the container's layers there: under a throw-away upper for
  looking (the container's upper dir is its top lower), or over the
  container's own upper dir for copying in. The mounts live and die with this
  process's namespace; the host's mount table never sees them.

A container in a user namespace is looked at from inside one, so the view can
do what its root could and nothing more (a root-only host file in a bind mount
stays unreadable): the running container's own, joined after its mount
namespace, or for a stopped one a fresh namespace with the same map, entered
once everything is mounted.

Every container path is resolved with openat2(RESOLVE_IN_ROOT |
RESOLVE_NO_MAGICLINKS) against that root, so no symlink in the container,
absolute or relative, leads to a host file; trees are walked by directory fd,
never through a symlink. Before touching the container's files the process
keeps only the few file capabilities it needs. Kernel filesystems (/proc,
/sys, ...) of a running container can be listed, not read or written.

The request (JSON in argv[1]) names ``status_fd``, which gets JSON lines: the
first once the path is resolved, ``{"ok": true, "entry": {...}}`` or
``{"ok": false, "kind": ..., "message": ...}``, and for list/read/get/put a
last one when the operation ends. Data goes out on stdout (list: JSON lines;
read: raw bytes; get: a tar) or comes in on stdin (put: a tar).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import posixpath
import stat
import sys
import tarfile
from dataclasses import dataclass
from typing import IO, Any

from engine.helper.runtime import capabilities, mounts, userns
from engine.helper.runtime import syscalls as sc
from engine.helper.runtime.spec import Userns

__all__ = ["FsError", "entry_json", "main", "openat2"]

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

_IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
_ONE_NAME = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
_SYS_OPENAT2 = 437  # the same on every architecture since Linux 5.6 (x86_64, aarch64, ...)
_PR_SET_NO_NEW_PRIVS = 38
_CHUNK = 1 << 16

# Filesystems the kernel makes up: listing them is fine, their content is not ours to copy.
_KERNEL_FS = frozenset({
    "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs",
    "securityfs", "bpf", "configfs", "fusectl", "pstore", "efivarfs", "binfmt_misc",
    "hugetlbfs", "autofs", "nsfs",
})
_READ_CAPS = ("CAP_DAC_READ_SEARCH",)
_WRITE_CAPS = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
               "CAP_FSETID")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: str, flags: int, resolve: int, mode: int = 0) -> int:
    """openat2(2): ``path`` resolved from ``dirfd`` under the ``resolve`` rules."""
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    raw = os.fsencode(path or ".")
    for _ in range(16):  # EAGAIN: a rename raced a RESOLVE_IN_ROOT walk; try again
        fd = _libc.syscall(_SYS_OPENAT2, ctypes.c_int(dirfd), ctypes.c_char_p(raw),
                           ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
        if fd >= 0:
            return int(fd)
        err = ctypes.get_errno()
        if err != errno.EAGAIN:
            break
    if err == errno.ENOSYS:
        raise FsError("kernel_feature_missing", "looking inside containers needs Linux 5.6 or "
                      "later (openat2)")
    raise OSError(err, os.strerror(err), path)


class FsError(Exception):
    """A failure for the user: ``kind`` is an engine.errors kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _os_error(exc: OSError, path: str) -> FsError:
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


# -- the container's root ---------------------------------------------------------------

@dataclass
class View:
    root: int  # O_PATH fd of the container's "/"
    kernel_devs: frozenset[int]  # st_dev of kernel filesystems (running containers)


def _kernel_devices(mountinfo: str) -> frozenset[int]:
    found = set()
    try:
        with open(mountinfo) as f:
            for line in f:
                fields = line.split()
                if "-" not in fields:
                    continue
                fstype = fields[fields.index("-") + 1]
                if fstype in _KERNEL_FS:
                    major, minor = fields[2].split(":")
                    found.add(os.makedev(int(major), int(minor)))
    except (OSError, ValueError):
        pass
    return frozenset(found)


def _enter_running(pid: int) -> View:
    devs = _kernel_devices(f"/proc/{pid}/mountinfo")
    userns_fd = _own_userns(pid)  # before setns(mnt) changes what /proc shows
    fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        sc.setns(fd, sc.CLONE_NEWNS)
    finally:
        os.close(fd)
    os.chdir("/")
    view = View(os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), devs)
    if userns_fd >= 0:  # act as the container's root would, nothing more
        userns.enter(userns_fd)
        os.close(userns_fd)
    return view


def _own_userns(pid: int) -> int:
    """An fd of the container's user namespace, or -1 when it runs in ours."""
    fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    if os.fstat(fd).st_ino == os.stat("/proc/self/ns/user").st_ino:
        os.close(fd)
        return -1
    return fd


def _mount_stopped(req: dict[str, Any]) -> View:
    trees = _bind_trees(req)  # in the host's mount namespace, where the sources' mounts are
    sc.unshare(sc.CLONE_NEWNS)
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    mountpoint: str = req["mountpoint"]
    layers: list[str] = req["layers"]  # directory names under layers_dir, top first
    remap = None
    if req.get("userns"):  # a fresh user namespace with the container's map
        remap = userns.prepare(Userns(**req["userns"]), req["layers_dir"], layers,
                               req["lowers"], req["empty"])
        remap.attach()
        os.chdir(remap.lower_dir)
        layers = remap.lowers
    else:
        os.chdir(req["layers_dir"])  # relative lowerdirs keep the option string short
    if req["writable"]:
        lowers = ":".join(layers or [req["empty"]])
        sc.mount("overlay", mountpoint, "overlay", sc.MS_NODEV,
                 f"lowerdir={lowers},upperdir={req['upper']},workdir={req['work']}")
        root = mountpoint
    else:
        # The container's upper is the top lower; a tmpfs upper takes the mountpoints.
        sc.mount("tmpfs", mountpoint, "tmpfs", sc.MS_NODEV | sc.MS_NOSUID, "mode=0755")
        for sub in ("root", "upper", "work"):
            os.mkdir(os.path.join(mountpoint, sub), 0o755)
        if remap is not None:  # the view's "/" belongs to container root, as in the container
            os.chown(os.path.join(mountpoint, "upper"), *remap.root)
        root = os.path.join(mountpoint, "root")
        lowers = ":".join([req["upper"], *layers])
        sc.mount("overlay", root, "overlay", sc.MS_NODEV | sc.MS_NOSUID,
                 f"lowerdir={lowers},upperdir={mountpoint}/upper,workdir={mountpoint}/work")
    os.chdir("/")
    for bind, mount in trees:
        _mount_bind(root, bind, mount, bool(req["writable"]))
    view = View(os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), frozenset())
    if remap is not None:  # last, as the container's processes do
        userns.enter(remap.fd)
        remap.close()
    return view


def _bind_trees(req: dict[str, Any]) -> list[tuple[dict[str, Any], mounts.BindMount]]:
    """The container's volumes and binds as detached trees of the descriptors the
    helper passed (a bind's, the user's process opened); read-only unless writing."""
    result = []
    for bind in req["binds"]:
        fd = int(bind["fd"])
        read_only = bool(bind["read_only"]) or not req["writable"]
        attrs = mounts.bind_attributes(read_only=read_only, owner_uid=req["caller_uid"],
                                       device_mode="nodev")
        try:
            tree = mounts.prepare_tree(fd, attrs)
        except OSError as exc:
            if req["writable"]:  # writing past a missing bind would put files in the wrong place
                raise FsError("helper", f"cannot mount {bind['target']} of the container: "
                              f"{exc.strerror or exc}") from None
            continue
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        fill = fd if bind.get("copy_up") and req["writable"] else -1
        result.append((bind, mounts.BindMount(bind["target"], tree, kind, read_only, fill)))
    return result


def _mount_bind(root: str, bind: dict[str, Any], mount: mounts.BindMount,
                writable: bool) -> None:
    """A volume or bind where the container's processes would see it."""
    step = mounts.MountStep(None, os.path.join(root, bind["target"].lstrip("/")), None,
                            kind=mount.kind, tree=mount.tree, fill_from=mount.fill_from)
    try:
        mounts.apply(mounts.RootfsPlan(root, [step]))
    except OSError as exc:
        if writable:  # writing past a missing volume would put files in the wrong place
            raise FsError("helper", f"cannot mount {bind['target']} of the container: "
                          f"{exc.strerror or exc}") from None


def _drop_privileges(writing: bool, device_files: bool) -> None:
    keep = list(_WRITE_CAPS if writing else _READ_CAPS)
    if writing and device_files:
        keep.append("CAP_MKNOD")
    capabilities.apply(keep, root_user=True)
    sc.prctl(_PR_SET_NO_NEW_PRIVS, 1)


# -- looking things up ---------------------------------------------------------------------

_TYPES = ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
          (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"),
          (stat.S_ISSOCK, "socket"))


def _type(mode: int) -> str:
    return next((name for test, name in _TYPES if test(mode)), "file")


def entry_json(name: str, path: str, st: os.stat_result, link_target: str = "") -> dict[str, Any]:
    """One file as the engine's FileEntry reads it."""
    return {"name": name, "path": path, "type": _type(st.st_mode), "size": st.st_size,
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
        parent = openat2(view.root, parent_path, os.O_PATH | os.O_DIRECTORY, _IN_ROOT)
    except OSError as exc:
        raise _os_error(exc, path) from None
    try:
        if not name:
            return Found(os.fstat(parent), parent, "")
        if follow:
            fd = openat2(view.root, path, os.O_PATH, _IN_ROOT)
        else:
            fd = openat2(parent, name, os.O_PATH | os.O_NOFOLLOW, _ONE_NAME)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        link = os.readlink(name, dir_fd=parent) if stat.S_ISLNK(st.st_mode) else ""
        return Found(st, parent, name, link)
    except OSError as exc:
        os.close(parent)
        raise _os_error(exc, path) from None
    except BaseException:
        os.close(parent)
        raise


def _open_regular(view: View, path: str, found: Found, follow: bool) -> int:
    """The file ``found`` names, opened for reading; refused unless a regular file."""
    if stat.S_ISDIR(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is a directory")
    if not stat.S_ISREG(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is not a regular file "
                      f"({_type(found.st.st_mode)})")
    if found.st.st_dev in view.kernel_devs:
        raise FsError("invalid_argument", f"{path} is on a kernel filesystem; read it with "
                      "exec inside the container")
    flags = os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK
    try:
        if follow or not found.name:
            fd = openat2(view.root, path, flags, _IN_ROOT)
        else:
            fd = openat2(found.parent, found.name, flags | os.O_NOFOLLOW, _ONE_NAME)
    except OSError as exc:
        raise _os_error(exc, path) from None
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (found.st.st_dev, found.st.st_ino) or not stat.S_ISREG(
            st.st_mode):
        os.close(fd)
        raise FsError("conflict", f"{path} changed while it was being opened; try again")
    return fd


# -- operations ----------------------------------------------------------------------------

class Reply:
    """The status pipe: the first line says whether the path was found, the last how it ended."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, message: dict[str, Any]) -> None:
        try:
            os.write(self.fd, json.dumps(message).encode() + b"\n")
        except OSError:
            pass  # the caller went away


def op_stat(view: View, req: dict[str, Any], reply: Reply) -> None:
    path = req["path"]
    found = lookup(view, path, req["follow"])
    found.close()
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st,
                                                found.link_target)})


def op_list(view: View, req: dict[str, Any], reply: Reply, out: IO[bytes]) -> None:
    path = req["path"]
    found = lookup(view, path, True)
    found.close()
    if not stat.S_ISDIR(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is not a directory")
    try:
        fd = openat2(view.root, path, os.O_RDONLY | os.O_DIRECTORY, _IN_ROOT)
    except OSError as exc:
        raise _os_error(exc, path) from None
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st)})
    count = 0
    try:
        for name in sorted(os.listdir(fd)):
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                link = os.readlink(name, dir_fd=fd) if stat.S_ISLNK(st.st_mode) else ""
            except OSError:
                continue  # gone since the listing (a running container, /proc)
            entry = entry_json(name, posixpath.join(path, name), st, link)
            out.write(json.dumps(entry).encode() + b"\n")
            count += 1
    finally:
        os.close(fd)
    out.flush()
    reply.send({"ok": True, "count": count})


def op_read(view: View, req: dict[str, Any], reply: Reply, out: IO[bytes]) -> None:
    path = req["path"]
    found = lookup(view, path, True)
    try:
        fd = _open_regular(view, path, found, True)
    finally:
        found.close()
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st)})
    left = req["limit"]
    try:
        while left > 0:
            chunk = os.read(fd, min(left, _CHUNK))
            if not chunk:
                break
            out.write(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    out.flush()
    reply.send({"ok": True, "bytes": req["limit"] - left})


class _Exactly:
    """A file's bytes as its tar header promised: zero-padded if it shrank meanwhile."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.left, self.eof = fd, size, False

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        parts: list[bytes] = []
        got = 0
        while got < n and not self.eof:
            chunk = os.read(self.fd, n - got)
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            got += len(chunk)
        self.left -= n
        return b"".join(parts) + bytes(n - got)


class _Archiver:
    """Writes entries of the container's tree to a tar stream, walking by fd."""

    def __init__(self, view: View, tar: tarfile.TarFile) -> None:
        self.view = view
        self.tar = tar
        self.links: dict[tuple[int, int], str] = {}
        self.count = 0

    def add(self, dir_fd: int, name: str, arcname: str, st: os.stat_result,
            reopen: tuple[int, str] | None = None) -> None:
        """One entry; ``reopen`` is (root, path) to open a followed top-level file by path."""
        info = tarfile.TarInfo(arcname)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = info.gname = ""
        info.mtime = st.st_mtime_ns / 1e9
        mode = st.st_mode
        if stat.S_ISSOCK(mode):
            return  # a tar cannot hold a socket
        if stat.S_ISDIR(mode):
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(name, dir_fd=dir_fd)
        elif stat.S_ISFIFO(mode):
            info.type = tarfile.FIFOTYPE
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self.links:
                info.type = tarfile.LNKTYPE
                info.linkname = self.links[key]
            else:
                self._add_file(dir_fd, name, info, st, reopen)
                if st.st_nlink > 1:
                    self.links[key] = arcname
                return
        self.tar.addfile(info)
        self.count += 1

    def _add_file(self, dir_fd: int, name: str, info: tarfile.TarInfo, st: os.stat_result,
                  reopen: tuple[int, str] | None) -> None:
        flags = os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK
        try:
            if reopen is not None:
                fd = openat2(reopen[0], reopen[1], flags, _IN_ROOT)
            else:
                fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError:
            return  # gone since it was listed
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(
                    now.st_mode):
                return
            info.size = 0 if now.st_dev in self.view.kernel_devs else now.st_size
            self.tar.addfile(info, _Exactly(fd, info.size))
            self.count += 1
        finally:
            os.close(fd)

    def tree(self, top: int, arcname: str) -> None:
        """Everything under the directory ``top`` (an fd), named below ``arcname``."""
        pending: list[tuple[str, str]] = [("", arcname)]  # (path below top, arcname)
        while pending:
            rel, arc = pending.pop()
            try:
                fd = openat2(top, rel, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, _ONE_NAME)
            except OSError:
                continue  # replaced by something else since it was listed
            try:
                later = []
                for name in sorted(os.listdir(fd)):
                    try:
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except OSError:
                        continue
                    child = name if arc in ("", ".") else f"{arc}/{name}"
                    self.add(fd, name, child, st)
                    if stat.S_ISDIR(st.st_mode) and st.st_dev not in self.view.kernel_devs:
                        later.append((posixpath.join(rel, name) if rel else name, child))
                pending.extend(reversed(later))
            finally:
                os.close(fd)


def op_get(view: View, req: dict[str, Any], reply: Reply, out: IO[bytes]) -> None:
    path, name = req["path"], req["name"]
    found = lookup(view, path, req["follow"])
    try:
        if stat.S_ISREG(found.st.st_mode) and found.st.st_dev in view.kernel_devs:
            raise FsError("invalid_argument", f"{path} is on a kernel filesystem; read it "
                          "with exec inside the container")
        reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st,
                                                    found.link_target)})
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            archiver = _Archiver(view, tar)
            followed = req["follow"] or not found.name
            if stat.S_ISDIR(found.st.st_mode):
                if name != ".":
                    archiver.add(found.parent, found.name, name, found.st)
                try:
                    top = openat2(view.root, path, os.O_PATH | os.O_DIRECTORY, _IN_ROOT) \
                        if followed else openat2(found.parent, found.name,
                                                 os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW,
                                                 _ONE_NAME)
                except OSError as exc:
                    raise _os_error(exc, path) from None
                try:
                    archiver.tree(top, name)
                finally:
                    os.close(top)
            else:
                archiver.add(found.parent, found.name, name, found.st,
                             reopen=(view.root, path) if followed else None)
    finally:
        found.close()
    out.flush()
    reply.send({"ok": True, "count": archiver.count})


# -- copying in ----------------------------------------------------------------------------

def _parts(name: str) -> list[str]:
    """A member's path as components below the destination; refuses climbing out."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise FsError("invalid_argument", f"refusing the archive member {name!r}: it climbs "
                      "out of the destination")
    return parts


class _Extractor:
    """Unpacks a tar under a directory of the container, resolving every path in its root."""

    def __init__(self, view: View, dest: str, archive: bool, caller_uid: int) -> None:
        self.view = view
        self.dest = dest
        self.archive = archive
        self.caller_uid = caller_uid
        self.dir_times: list[tuple[str, int]] = []
        self.count = 0

    def _dir(self, parts: list[str]) -> int:
        """O_PATH fd of dest/parts, creating missing directories as tar does."""
        path = posixpath.join(self.dest, *parts)
        try:
            return openat2(self.view.root, path, os.O_PATH | os.O_DIRECTORY, _IN_ROOT)
        except FileNotFoundError:
            if not parts:
                raise
        parent = self._dir(parts[:-1])
        try:
            os.mkdir(parts[-1], 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        finally:
            os.close(parent)
        return openat2(self.view.root, path, os.O_PATH | os.O_DIRECTORY, _IN_ROOT)

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
                    while chunk := source.read(_CHUNK):
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
                fd = openat2(self.view.root, path, os.O_RDONLY | os.O_DIRECTORY, _IN_ROOT)
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
                    raise _os_error(exc, posixpath.join(path, *_parts(member.name))) from None
    except tarfile.TarError as exc:
        raise FsError("invalid_argument", f"the archive is not a valid tar stream: {exc}") \
            from None
    extractor.finish()
    reply.send({"ok": True, "count": extractor.count})


_OPS = {"stat": op_stat, "list": op_list, "read": op_read, "get": op_get, "put": op_put}


def _lock(path: str) -> None:
    """One writer at a time over a stopped container's upper dir (held until exit)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)


def run(req: dict[str, Any], reply: Reply) -> None:
    op = req["op"]
    writing = op == "put"
    os.umask(0)  # modes from the archive are applied exactly
    if req["pid"] > 0:
        view = _enter_running(req["pid"])
    else:
        if req["writable"]:
            _lock(req["lock"])
        view = _mount_stopped(req)
    _drop_privileges(writing, req["caller_uid"] == 0)
    if op == "stat":
        op_stat(view, req, reply)
    elif op == "put":
        with os.fdopen(0, "rb") as source:
            op_put(view, req, reply, source)
    else:
        with os.fdopen(1, "wb") as out:
            _OPS[op](view, req, reply, out)  # type: ignore[operator]


def main(argv: list[str]) -> int:
    with os.fdopen(int(argv[1]), "rb") as source:  # a memfd: never on the command line
        request = json.loads(source.read())
    reply = Reply(int(request["status_fd"]))
    try:
        run(request, reply)
    except FsError as exc:
        reply.send({"ok": False, "kind": exc.kind, "message": str(exc)})
        return 1
    except BrokenPipeError:
        reply.send({"ok": False, "kind": "helper", "message": "the reader went away"})
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        reply.send({"ok": False, "kind": "helper", "message": f"{exc.strerror or exc}{where}"})
        return 1
    except BaseException as exc:
        reply.send({"ok": False, "kind": "helper",
                    "message": f"internal error looking into the container: {exc!r}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
