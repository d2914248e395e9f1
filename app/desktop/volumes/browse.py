"""A volume's files, read and copied in and out with the Files tab's own view.

The engine reaches a volume's files whether or not a container mounts it (the
helper looks at the volume itself), so the view's tree starts at the volume's
top, and a copy in lands there unless a folder in it is chosen.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from app.desktop.bridge import Bridge
from app.desktop.files.source import FileSource
from app.desktop.files.view import FilesView

__all__ = ["VolumeFiles", "VolumeTree"]


class VolumeTree(FilesView):
    """The Files tab's view over a volume instead of a container."""

    volume = ""  # (set before the view first asks what it shows)

    def __init__(self, bridge: Bridge, volume: str, parent: QWidget | None = None) -> None:
        self.volume = volume
        super().__init__(bridge, parent)
        self.mode.hide()  # "Changed files" compares a container with its image
        self.tree.setAccessibleName("Volume files")
        self.tree.setColumnHidden(5, True)  # "Change": against an image, which it has none of
        self._update_note()
        self._update_buttons()

    def source(self) -> FileSource:
        return FileSource(self.volume, self.volume, volume=True)

    def current_id(self) -> str:
        return self.volume

    def _update_note(self) -> None:
        self.note.setText(f"The files of the volume {self.volume}, as the containers that "
                          "mount it see them. Copying in writes into the volume; "
                          "double-click a file to read it.")


class VolumeFiles(QDialog):
    def __init__(self, bridge: Bridge, volume: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Files of the volume {volume}")
        self.setAccessibleName(f"Files of the volume {volume}")
        self.files = VolumeTree(bridge, volume, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.files, 1)
        self.resize(760, 520)
