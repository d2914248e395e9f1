"""Named volumes' host directories: their owner's alone, and never a way to set-uid.

A volume's files are written by containers, and by root copying an image's
files into it, so a set-uid root program can land there. Its owner may look at
the volume on the host (``inspect``'s Mountpoint, the window's "open folder"),
so that view must not honour set-uid bits, and nobody else may reach it at all:

    users/<uid>/volumes/<name>/      root's, 0700, entered by <uid> (privacy.py)
        _data                        the Mountpoint: the owner's way in
        .store/data                  the data; .store is root's alone

For a user other than root, ``_data`` is a ``nosuid,nodev`` bind mount of
``.store/data``, so a set-uid file there runs with its caller's rights and a
device node there opens nothing. Without the mount (after a reboot, until the
helper mounts it again) ``_data`` is an empty directory only root may enter:
the data is never reachable another way. Containers mount ``.store/data``.
Root's volumes keep their data in ``_data`` itself: no one else reaches them,
and root may run what it likes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from engine.helper import syscalls as sc
from engine.helper.privacy import private_dir

__all__ = ["VolumeDirs"]


class VolumeDirs:
    """The volumes of one user (``uid``) under ``user_dir`` (``users/<uid>``)."""

    def __init__(self, user_dir: Path, uid: int) -> None:
        self.dir = user_dir / "volumes"
        self.uid = uid

    def mountpoint(self, name: str) -> Path:
        """Where the owner sees the volume (docker's Mountpoint)."""
        return self.dir / name / "_data"

    def data(self, name: str) -> Path:
        """Where the volume's files are: what containers mount."""
        if self.uid == 0:
            return self.mountpoint(name)
        return self.dir / name / ".store" / "data"

    def create(self, name: str) -> Path:
        """Make the volume (the user's private directories exist); its mountpoint."""
        volume = self.dir / name
        _mkdir(volume, 0o700)
        private_dir(volume, self.uid)
        if self.uid != 0:
            self._adopt_old_data(volume)
            _mkdir(volume / ".store", 0o700)
            _mkdir(self.data(name), 0o755)
        _mkdir(self.mountpoint(name), 0o700 if self.uid else 0o755)
        self.ensure_mounted(name)
        return self.mountpoint(name)

    def ensure_mounted(self, name: str) -> None:
        """The owner's nosuid view of the data, unless it is there already."""
        if self.uid == 0:
            return
        target, data = self.mountpoint(name), self.data(name)
        if not data.is_dir() or _is_mount_of(target, data):
            return
        sc.mount(str(data), str(target), None, sc.MS_BIND)
        sc.mount(None, str(target), None,
                 sc.MS_BIND | sc.MS_REMOUNT | sc.MS_NOSUID | sc.MS_NODEV)

    def remove(self, name: str) -> None:
        for _ in range(8):  # stacked mounts too, if two helpers raced to make one
            if self.uid == 0 or not _is_mount_of(self.mountpoint(name), self.data(name)):
                break
            sc.umount2(str(self.mountpoint(name)), sc.MNT_DETACH)
        shutil.rmtree(self.dir / name, ignore_errors=True)

    def _adopt_old_data(self, volume: Path) -> None:
        """A volume from before ``.store``: its ``_data`` becomes the store's data."""
        old, store = volume / "_data", volume / ".store"
        if store.exists() or not old.is_dir():
            return
        staging = volume / ".store.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        os.rename(old, staging / "data")
        os.rename(staging, store)


def _mkdir(path: Path, mode: int) -> None:
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        return
    os.chmod(path, mode)  # whatever the umask


def _is_mount_of(target: Path, data: Path) -> bool:
    try:
        seen, real = os.stat(target), os.stat(data)
    except OSError:
        return False
    return (seen.st_dev, seen.st_ino) == (real.st_dev, real.st_ino)
