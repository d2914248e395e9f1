"""The privileged primitives the runtime's plans apply, behind one small interface.

A plan (the rootfs mounts of engine/helper/runtime/mounts.py, the /dev nodes of
devices.py, the namespaces a container's init makes or joins, init.py, the
capabilities it keeps, capabilities.py, its hostname, and the process settings and
seccomp filter it locks itself down with, init.py and reaper.py) is computed as data,
then applied through a ``Kernel``: in
production ``LINUX``, the real system calls (syscalls.py); in tests a
``RecordingKernel``, which performs nothing privileged and records every call in
order, so what a plan would do is checked without root (as youki's
``TestHelperSyscall`` does). Paths and descriptors are passed as given: the
recording is what the kernel would have been asked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

from engine.helper import syscalls as sc
from engine.helper.runtime import syscallfilter

__all__ = ["LINUX", "Call", "Kernel", "LinuxKernel", "RecordingKernel"]


class Kernel(Protocol):
    """mount(2) and the new mount API, pivot_root(2), mknod(2), unshare(2), setns(2),
    capset(2), prctl(2), sethostname(2), and loading a seccomp filter."""

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0,
              data: str | None = None) -> None: ...

    def umount2(self, target: str, flags: int = 0) -> None: ...

    def pivot_root(self, new_root: str, put_old: str) -> None: ...

    def open_tree(self, source_fd: int, *, recursive: bool = True) -> int: ...

    def mount_setattr(self, tree_fd: int, *, attr_set: int = 0, attr_clr: int = 0,
                      propagation: int = 0, recursive: bool = True) -> None: ...

    def move_mount(self, tree_fd: int, target: str | int) -> None: ...

    def mknod(self, path: str, mode: int, device: int) -> None: ...

    def unshare(self, flags: int) -> None: ...

    def setns(self, fd: int, nstype: int = 0) -> None: ...

    def capset(self, effective: int, permitted: int, inheritable: int) -> None: ...

    def prctl(self, option: int, value: int) -> None: ...

    def sethostname(self, name: str) -> None: ...

    def load_seccomp(self, program: syscallfilter.Program) -> None: ...


class LinuxKernel:
    """The real thing (engine/helper/syscalls.py, os.mknod, syscallfilter.install)."""

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0,
              data: str | None = None) -> None:
        sc.mount(source, target, fstype, flags, data)

    def umount2(self, target: str, flags: int = 0) -> None:
        sc.umount2(target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        sc.pivot_root(new_root, put_old)

    def open_tree(self, source_fd: int, *, recursive: bool = True) -> int:
        return sc.open_tree(source_fd, recursive=recursive)

    def mount_setattr(self, tree_fd: int, *, attr_set: int = 0, attr_clr: int = 0,
                      propagation: int = 0, recursive: bool = True) -> None:
        sc.mount_setattr(tree_fd, attr_set=attr_set, attr_clr=attr_clr,
                         propagation=propagation, recursive=recursive)

    def move_mount(self, tree_fd: int, target: str | int) -> None:
        sc.move_mount(tree_fd, target)

    def mknod(self, path: str, mode: int, device: int) -> None:
        os.mknod(path, mode, device)

    def unshare(self, flags: int) -> None:
        sc.unshare(flags)

    def setns(self, fd: int, nstype: int = 0) -> None:
        sc.setns(fd, nstype)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        sc.capset(effective, permitted, inheritable)

    def prctl(self, option: int, value: int) -> None:
        sc.prctl(option, value)

    def sethostname(self, name: str) -> None:
        sc.sethostname(name)

    def load_seccomp(self, program: syscallfilter.Program) -> None:
        syscallfilter.install(program)


LINUX = LinuxKernel()


@dataclass(frozen=True)
class Call:
    """One primitive asked for: its name and arguments, as passed."""

    name: str
    args: tuple[object, ...]


@dataclass
class RecordingKernel:
    """Records every call and performs none. ``open_tree`` hands out a real descriptor
    (of /dev/null) that callers may close as they would a mount tree's; ``mknod``
    leaves an empty file where the node would be, so later steps find it; ``setns``
    records the path of the namespace file it was given."""

    calls: list[Call] = field(default_factory=list)

    def named(self, name: str) -> list[tuple[object, ...]]:
        """The arguments of every call of ``name``, in order."""
        return [call.args for call in self.calls if call.name == name]

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0,
              data: str | None = None) -> None:
        self.calls.append(Call("mount", (source, target, fstype, flags, data)))

    def umount2(self, target: str, flags: int = 0) -> None:
        self.calls.append(Call("umount2", (target, flags)))

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self.calls.append(Call("pivot_root", (new_root, put_old)))

    def open_tree(self, source_fd: int, *, recursive: bool = True) -> int:
        tree = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        self.calls.append(Call("open_tree", (source_fd, recursive, tree)))
        return tree

    def mount_setattr(self, tree_fd: int, *, attr_set: int = 0, attr_clr: int = 0,
                      propagation: int = 0, recursive: bool = True) -> None:
        self.calls.append(Call("mount_setattr",
                               (tree_fd, attr_set, attr_clr, propagation, recursive)))

    def move_mount(self, tree_fd: int, target: str | int) -> None:
        where = os.readlink(f"/proc/self/fd/{target}") if isinstance(target, int) else target
        self.calls.append(Call("move_mount", (tree_fd, where)))

    def mknod(self, path: str, mode: int, device: int) -> None:
        self.calls.append(Call("mknod", (path, mode, device)))
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600))

    def unshare(self, flags: int) -> None:
        self.calls.append(Call("unshare", (flags,)))

    def setns(self, fd: int, nstype: int = 0) -> None:
        """Recorded with what ``fd`` is (a namespace file's path), not its number."""
        self.calls.append(Call("setns", (os.readlink(f"/proc/self/fd/{fd}"), nstype)))

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self.calls.append(Call("capset", (effective, permitted, inheritable)))

    def prctl(self, option: int, value: int) -> None:
        self.calls.append(Call("prctl", (option, value)))

    def sethostname(self, name: str) -> None:
        self.calls.append(Call("sethostname", (name,)))

    def load_seccomp(self, program: syscallfilter.Program) -> None:
        self.calls.append(Call("load_seccomp", (program,)))
