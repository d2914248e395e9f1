"""A volume's files, read and copied in and out with the Files tab's own view.

The engine reaches files through a container; a volume's are reached through a
container that mounts it (the helper shows a stopped container's volumes too), so
the view opens that container's tree at the mount point and keeps to it: the
tree starts there and a copy in lands there unless a folder in it is chosen. A
volume no container mounts cannot be browsed yet; the page says so.
"""

from __future__ import annotations

import posixpath
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from app.desktop.bridge import Bridge
from app.desktop.files.view import FilesView
from engine import Container

__all__ = ["VolumeFiles", "VolumeTree", "mount_of"]


def mount_of(container: Container, volume: str) -> str:
    """Where ``container`` mounts ``volume`` ("" if it does not)."""
    return next((m.target for m in container.config.mounts
                 if m.type == "volume" and m.source == volume), "")


class VolumeTree(FilesView):
    """The Files tab's view, kept inside one folder of the container; ``shown`` once
    the tree starts at that folder."""

    shown = Signal()

    def __init__(self, bridge: Bridge, top: str, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent)
        self.top = top
        self.mode.hide()  # "Changed files" compares with the image: not a volume's
        self.model.loaded.connect(self._descend)
        self.model.modelReset.connect(self._descend)

    def _descend(self, *_args: Any) -> None:
        """Load each folder on the way to the mount point, then start the tree there."""
        path = "/"
        for part in self.top.strip("/").split("/"):
            if not self.model.directory_loaded(path):
                self.model.fetchMore(self.model.index_for(path))
                return
            path = posixpath.join(path, part)
        index = self.model.index_for(self.top)
        if not index.isValid():
            return
        if not self.model.directory_loaded(self.top):
            self.model.fetchMore(index)
            return
        if self.tree.rootIndex() != index:
            self.tree.setRootIndex(index)
            self.shown.emit()

    def target_directory(self) -> str:
        path = super().target_directory()
        inside = path == self.top or path.startswith(self.top.rstrip("/") + "/")
        return path if inside else self.top


class VolumeFiles(QDialog):
    def __init__(self, bridge: Bridge, volume: str, container: Container,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = mount_of(container, volume)
        self.setWindowTitle(f"Files of the volume {volume}")
        self.setAccessibleName(f"Files of the volume {volume}")
        note = QLabel(f"Seen through {container.name}, which mounts it at {self.target}: "
                      "copying in writes into the volume.", self)
        note.setWordWrap(True)
        self.files = VolumeTree(bridge, self.target, self)
        self.files.set_container(container)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.files, 1)
        self.resize(760, 520)
