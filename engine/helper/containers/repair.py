"""Repair after a crash: half-made or half-removed directories, containers and
claims nothing stands behind, layer references, what an older Skiff left open.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from engine.errors import ContainerNotFound
from engine.helper.claims import STALE_AFTER
from engine.helper.containers.base import ACTIVE, PRIVATE_FILES
from engine.helper.containers.lifecycle import Lifecycle
from engine.helper.privacy import make_private, private_file
from engine.helper.runtime.spec import ContainerDir, announce_changes, changes_file

__all__ = ["Repair"]


class Repair(Lifecycle):
    """The repair verb (it removes what a crash left, as remove does)."""

    def repair(self, known: list[str], layers: list[str] | None = None) -> dict[str, Any]:
        """Drop what a crash left: half-created or half-removed dirs, unknown containers,
        ID claims and layer references nothing stands behind. With ``layers`` (the
        diff_ids of the user's images), the user's layer references become those.
        Also makes private what an older Skiff left readable to all."""
        removed = []
        self._private_dirs("containers")
        if self.volumes.dir.is_dir():  # private, and mounted again after a reboot
            self._private_dirs("volumes")
            for name in os.listdir(self.volumes.dir):
                if not (self.volumes.dir / name).is_symlink():
                    self.volumes.create(name)
        changes = changes_file(self.containers_dir)
        announce_changes(changes)  # so engines can watch it
        for path in (changes, changes.with_name("events.log"),
                     changes.with_name("events.log.1")):
            if path.is_file() and not path.is_symlink():
                private_file(path, self.uid)
        keep = set(known)
        for entry in self.containers_dir.iterdir():
            try:
                if self._repair_entry(entry, keep):
                    removed.append(entry.name)
            except (FileNotFoundError, ContainerNotFound):
                # Another engine's create renamed it into place, or a removal took it,
                # between the listing and this look (50 parallel `skiff run -d`: one
                # command in ten failed with "No such file or directory").
                continue
        for name, age in self.claims.held_by(self.uid).items():
            if age > STALE_AFTER and not (self.containers_dir / name).exists():
                self.layer_refs.unuse(name)  # a crash between removing it and this
                self.claims.release(name, self.uid)
        if layers is not None:
            self.layer_refs.sync(self.uid, layers)
        return {"removed": removed}

    def _repair_entry(self, entry: Path, keep: set[str]) -> bool:
        """Drop one directory if a crash left it; whether it was a container removed."""
        name = entry.name
        if name.startswith(".") and (name.endswith(".creating") or name.endswith(".removing")):
            # A young one is another engine's create or remove under way (50
            # parallel `skiff run -d` lost some of theirs to this): only an old
            # one was left by a crash.
            if time.time() - entry.lstat().st_mtime > STALE_AFTER:
                from engine.helper.network.netns import destroy_sandbox

                destroy_sandbox(entry / "netns")  # a crash before the removal's discard
                shutil.rmtree(entry, ignore_errors=True)
            return False
        if len(name) != 64 or entry.is_symlink():
            return False
        if entry.stat().st_mode & 0o007:  # from before containers were private
            make_private(entry, self.uid, PRIVATE_FILES)
        if name in keep or time.time() - entry.stat().st_mtime <= STALE_AFTER:
            return False
        # Old enough that no engine is between its helper call and its database
        # write for it: a crash left it.
        if self._live_status(ContainerDir(entry)).get("status") in ACTIVE:
            return False
        self.remove(name, force=False)
        return True
