"""Container IDs are unique across users: each is claimed by one user first.

A container's ID names more than its directory: its cgroup, its network
sandbox and links, its layer references. Those are host-wide, so if a user
could create a container under another user's ID (IDs show in
``/proc/*/cgroup``), pausing, limiting or removing it would act on the other
user's container. The helper therefore claims an ID before it makes anything
for it: ``<root>/ids/<id>`` is a symlink whose target is the owner's uid,
created atomically (it fails if any user holds it), and dropped only after
the container is gone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["Claims"]

#: How old a claim without its container must be before repair may drop it: a
#: younger one may belong to a create in progress.
STALE_AFTER = 300.0


class Claims:
    def __init__(self, root: Path) -> None:
        self.dir = root / "ids"

    def _path(self, container_id: str) -> Path:
        return self.dir / container_id

    def owner(self, container_id: str) -> int | None:
        try:
            return int(os.readlink(self._path(container_id)))
        except (OSError, ValueError):
            return None

    def claim(self, container_id: str, uid: int) -> bool:
        """Claim the ID for ``uid``; False when another user holds it."""
        try:
            os.mkdir(self.dir, 0o700)
        except FileExistsError:
            pass
        try:
            os.symlink(str(uid), self._path(container_id))
            return True
        except FileExistsError:
            return self.owner(container_id) == uid

    def release(self, container_id: str, uid: int) -> None:
        if self.owner(container_id) == uid:
            try:
                os.unlink(self._path(container_id))
            except FileNotFoundError:
                pass

    def held_by(self, uid: int) -> dict[str, float]:
        """This user's claimed IDs and their age in seconds."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return {}
        now = time.time()
        found = {}
        for name in names:
            path = self._path(name)
            try:
                if os.readlink(path) == str(uid):
                    found[name] = now - os.lstat(path).st_mtime
            except OSError:
                continue
        return found
