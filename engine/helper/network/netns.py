"""Per-container network sandboxes: network namespaces bound to a file.

A sandbox outlives the container's processes, so a restart by policy finds the
same interface, address and rules: the helper makes it at start, the
container's init joins it with setns() instead of unsharing its own.

The namespace is made by a short-lived thread, not a forked child: unshare()
and setns() change only the calling thread, the bind mount of
/proc/thread-self/ns/net keeps the namespace alive after the thread ends, and a
thread costs ~3 ms where pyroute2's forked NetNS costs ~20 ms. Every netlink
call in this package runs through :func:`run_in_netns` for the same reason and
because pyroute2's synchronous API refuses to run in a thread that already has
a running asyncio loop (the helper's).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from engine.errors import HelperError
from engine.helper.syscalls import (
    CLONE_NEWNET,
    MNT_DETACH,
    MS_BIND,
    mount,
    setns,
    umount2,
    unshare,
)

__all__ = ["create_sandbox", "destroy_sandbox", "is_sandbox", "run_in_netns", "sandboxes_under"]

T = TypeVar("T")


def is_sandbox(path: Path) -> bool:
    """True if ``path`` is a network namespace bind mount (nsfs has one device)."""
    try:
        return os.stat(path).st_dev == os.stat("/proc/self/ns/net").st_dev
    except FileNotFoundError:
        return False


def run_in_netns(netns: Path | None, work: Callable[[], T]) -> T:
    """Run ``work`` in a fresh thread inside ``netns`` (None: the caller's netns).

    The thread inherits the calling thread's namespaces, so ``None`` means "the
    namespace the caller is in", which for the helper is the host's.
    """
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            if netns is not None:
                _enter(netns)
            outcome["value"] = work()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="skiff-netns", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _enter(netns: Path) -> None:
    try:
        fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise HelperError(f"network sandbox {netns} does not exist") from None
    try:
        setns(fd, CLONE_NEWNET)
    except OSError as exc:
        raise HelperError(f"cannot enter network sandbox {netns}: {exc.strerror}") from None
    finally:
        os.close(fd)


_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = struct.Struct("16sH22x")  # struct ifreq: the name, then ifr_flags


def _loopback_up() -> None:
    """Two ioctls on a socket of the calling thread's namespace (netlink through
    pyroute2 took ~1 ms of every sandbox, none's too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        _, flags = _IFREQ.unpack(fcntl.ioctl(sock, _SIOCGIFFLAGS, _IFREQ.pack(b"lo", 0)))
        fcntl.ioctl(sock, _SIOCSIFFLAGS, _IFREQ.pack(b"lo", flags | _IFF_UP))


def create_sandbox(path: Path) -> None:
    """Make a new network namespace with loopback up, bound to ``path``.

    Idempotent: an existing sandbox at ``path`` is kept as it is.
    """
    if is_sandbox(path):
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o444)
    os.close(fd)

    def make() -> None:
        unshare(CLONE_NEWNET)
        mount("/proc/thread-self/ns/net", str(path), None, MS_BIND)
        _loopback_up()

    try:
        run_in_netns(None, make)
    except OSError as exc:
        destroy_sandbox(path)
        raise HelperError(f"cannot create the network sandbox {path}: {exc.strerror}") from None
    except BaseException:
        destroy_sandbox(path)
        raise


def destroy_sandbox(path: Path) -> None:
    """Unbind and delete a sandbox; the kernel frees the namespace (and its veth
    ends) once no process is left in it. Idempotent."""
    for _ in range(16):  # a crash between two creates can leave stacked mounts
        if not is_sandbox(path):
            break
        try:
            umount2(str(path), MNT_DETACH)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOENT):
                raise HelperError(f"cannot remove the network sandbox {path}: "
                                  f"{exc.strerror}") from None
            break
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def sandboxes_under(root: Path) -> list[Path]:
    """Network namespace bind mounts below ``root`` (from this mount table)."""
    found = []
    with open("/proc/self/mountinfo") as file:
        for line in file:
            fields, _, rest = line.partition(" - ")
            if rest.split(" ", 1)[0] != "nsfs":
                continue
            target = Path(_unescape(fields.split(" ")[4]))
            if target.is_relative_to(root) and target not in found:
                found.append(target)
    return found
