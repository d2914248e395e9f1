"""The few Linux syscalls the standard library lacks, through ctypes.

Python 3.11 has no os.unshare/os.setns; nothing here has a stdlib twin. Each
wrapper raises OSError with errno on failure, like the os module does.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = [
    "CLONE_NEWCGROUP", "CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWNS", "CLONE_NEWPID",
    "CLONE_NEWUSER", "CLONE_NEWUTS", "MNT_DETACH", "MOUNT_ATTR_NODEV", "MOUNT_ATTR_NOEXEC",
    "MOUNT_ATTR_NOSUID", "MOUNT_ATTR_RDONLY", "MS_BIND", "MS_NODEV", "MS_NOEXEC", "MS_NOSUID",
    "MS_PRIVATE", "MS_RDONLY", "MS_REC", "MS_REMOUNT", "MS_SLAVE", "MS_STRICTATIME", "bare_fork",
    "capset", "fork_sibling", "idmapped_tree", "mount", "mount_setattr", "move_mount",
    "open_tree", "pivot_root", "prctl", "seccomp",
    "sethostname", "setns", "umount2", "unshare",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

# The new mount API (Linux 5.2; mount_setattr 5.12): one number on every architecture.
_SYS_OPEN_TREE = 428
_SYS_MOVE_MOUNT = 429
_SYS_MOUNT_SETATTR = 442
_OPEN_TREE_CLONE = 1
_AT_EMPTY_PATH = 0x1000
_AT_RECURSIVE = 0x8000
_MOVE_MOUNT_F_EMPTY_PATH = 0x04
_MOVE_MOUNT_T_EMPTY_PATH = 0x40
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
_MOUNT_ATTR_IDMAP = 0x00100000

_SYS_CLONE3 = 435  # one number on every architecture (Linux 5.3)
# clone(2) where clone3 is refused (a container runtime's seccomp profile says ENOSYS);
# s390x takes its first two arguments the other way round, and is not listed.
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "armv7l": 120, "ppc64le": 120, "riscv64": 220}
_CLONE_PARENT = 0x00008000
_SIGCHLD = 17
_ENOSYS = 38

_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "armv7l": 218, "ppc64le": 203,
                   "s390x": 217, "riscv64": 41}
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277, "armv7l": 383, "ppc64le": 358,
                "s390x": 348, "riscv64": 277}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]
_libc.syscall.restype = ctypes.c_long


def _check(result: int, what: str, path: str | None = None) -> None:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}", path)


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def bare_fork() -> int:
    """fork(2) without what os.fork adds in Python: the os.register_at_fork hooks
    (threading's re-initialisation, logging's locks, random's reseeding) and the
    interpreter's lock re-initialisation. Those exist for the threads a process had;
    only a process that never started one may fork this way (the zygote)."""
    pid = int(_libc.fork())
    _check(pid, "fork")
    return pid


class _CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls")]


def fork_sibling() -> int:
    """fork(2) whose child is our parent's child, not ours (CLONE_PARENT): our exit
    neither signals nor reparents it. As :func:`bare_fork`, without Python's at-fork
    hooks; and without the C library's, so the child must be our only thread's copy
    and must not return into code that relies on them (a container's PID 1: it
    sets up and execs)."""
    args = _CloneArgs(flags=_CLONE_PARENT)  # its exit signal is ours (SIGCHLD), as clone3 wants
    pid = int(_libc.syscall(_SYS_CLONE3, ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args))))
    if pid < 0 and ctypes.get_errno() == _ENOSYS and platform.machine() in _SYS_CLONE:
        pid = int(_libc.syscall(_SYS_CLONE[platform.machine()],
                                ctypes.c_ulong(_CLONE_PARENT | _SIGCHLD), 0, 0, 0, 0))
    _check(pid, "clone")
    return pid


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0,
          data: str | None = None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)),
           f"mount {fstype or 'bind'} on {target}", target)


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_b(target), flags), f"umount {target}", target)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def pivot_root(new_root: str, put_old: str) -> None:
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(38, f"pivot_root: unknown syscall number on {platform.machine()}")
    _check(_libc.syscall(number, _b(new_root), _b(put_old)), "pivot_root", new_root)


def seccomp(operation: int, flags: int, args: int) -> None:
    number = _SYS_SECCOMP.get(platform.machine())
    if number is None:
        raise OSError(38, f"seccomp: unknown syscall number on {platform.machine()}")
    _check(_libc.syscall(number, ctypes.c_uint(operation), ctypes.c_uint(flags),
                         ctypes.c_void_p(args)), "seccomp")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    result = _libc.prctl(option, arg2, arg3, arg4, arg5)
    _check(result, f"prctl({option})")
    return int(result)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set this thread's capability sets (64-bit masks)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in range(2):
        shift = 32 * i
        data[i].effective = (effective >> shift) & 0xFFFFFFFF
        data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def open_tree(source_fd: int, *, recursive: bool = True) -> int:
    """A detached copy of the mount tree at the open file ``source_fd``
    (open_tree OPEN_TREE_CLONE): a bind mount of what the descriptor names,
    whatever its path says now. Close-on-exec; attach it with :func:`move_mount`."""
    flags = _OPEN_TREE_CLONE | os.O_CLOEXEC | _AT_EMPTY_PATH | (_AT_RECURSIVE if recursive else 0)
    fd = int(_libc.syscall(_SYS_OPEN_TREE, ctypes.c_int(source_fd), b"", ctypes.c_uint(flags)))
    _check(fd, "open_tree")
    return fd


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def mount_setattr(tree_fd: int, *, attr_set: int = 0, attr_clr: int = 0, propagation: int = 0,
                  recursive: bool = True) -> None:
    """Change the mount flags (MOUNT_ATTR_*) and propagation (MS_PRIVATE, ...) of the
    mount ``tree_fd`` names, and with ``recursive`` of every mount below it."""
    attr = _MountAttr(attr_set, attr_clr, propagation, 0)
    flags = _AT_EMPTY_PATH | (_AT_RECURSIVE if recursive else 0)
    _check(_libc.syscall(_SYS_MOUNT_SETATTR, ctypes.c_int(tree_fd), b"", ctypes.c_uint(flags),
                         ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))),
           "mount_setattr")


def move_mount(tree_fd: int, target: str | int) -> None:
    """Attach the detached tree ``tree_fd`` at ``target``: a path, or an open (O_PATH)
    descriptor of the mountpoint, in this mount namespace."""
    if isinstance(target, int):
        result = _libc.syscall(_SYS_MOVE_MOUNT, ctypes.c_int(tree_fd), b"", ctypes.c_int(target),
                               b"", ctypes.c_uint(_MOVE_MOUNT_F_EMPTY_PATH
                                                  | _MOVE_MOUNT_T_EMPTY_PATH))
        _check(result, "move_mount")
        return
    _check(_libc.syscall(_SYS_MOVE_MOUNT, ctypes.c_int(tree_fd), b"", ctypes.c_int(-100),
                         _b(target), ctypes.c_uint(_MOVE_MOUNT_F_EMPTY_PATH)),
           "move_mount", target)


def idmapped_tree(path: str, userns_fd: int) -> int:
    """A detached copy of the mount at ``path`` whose owners are seen through the
    user namespace ``userns_fd`` (open_tree + mount_setattr MOUNT_ATTR_IDMAP).

    Returns the tree's fd (close-on-exec); attach it with :func:`move_mount`.
    """
    fd = int(_libc.syscall(_SYS_OPEN_TREE, ctypes.c_int(-100), _b(path),
                           ctypes.c_uint(_OPEN_TREE_CLONE | os.O_CLOEXEC)))
    _check(fd, "open_tree", path)
    attr = _MountAttr(_MOUNT_ATTR_IDMAP, 0, 0, userns_fd)
    try:
        _check(_libc.syscall(_SYS_MOUNT_SETATTR, ctypes.c_int(fd), b"",
                             ctypes.c_uint(_AT_EMPTY_PATH), ctypes.byref(attr),
                             ctypes.c_size_t(ctypes.sizeof(attr))), "mount_setattr", path)
    except BaseException:
        os.close(fd)
        raise
    return fd
