"""The device nodes a container's /dev gets, and its links.

``populate`` fills a fresh /dev tmpfs before pivot_root.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

__all__ = ["DEVICES", "DEV_LINKS", "Device", "populate"]


@dataclass(frozen=True)
class Device:
    path: str
    major: int
    minor: int
    mode: int = 0o666


# The nodes every container's /dev has (ptmx and pts come from its own devpts).
DEVICES = (
    Device("/dev/null", 1, 3), Device("/dev/zero", 1, 5), Device("/dev/full", 1, 7),
    Device("/dev/random", 1, 8), Device("/dev/urandom", 1, 9), Device("/dev/tty", 5, 0),
)
DEV_LINKS = (
    ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"), ("/proc/kcore", "/dev/core"),
)


def populate(dev: str, mode: str) -> None:
    """The default nodes and links in the container's fresh /dev tmpfs at ``dev``."""
    old = os.umask(0)
    try:
        for device in DEVICES:
            path = os.path.join(dev, os.path.basename(device.path))
            os.mknod(path, stat.S_IFCHR | device.mode, os.makedev(device.major, device.minor))
        for target, link in DEV_LINKS:
            os.symlink(target, os.path.join(dev, os.path.basename(link)))
        for sub in ("pts", "shm", "mqueue"):
            os.mkdir(os.path.join(dev, sub), 0o755)
    finally:
        os.umask(old)
