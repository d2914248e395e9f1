"""The Volumes tab: each mount of the container, with "open folder" for host folders."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from app.desktop.inspect.data import MountRow
from app.desktop.inspect.gridpage import GridPage

__all__ = ["VolumesView"]

_KIND = {"bind": "Folder", "volume": "Volume", "tmpfs": "Memory (tmpfs)"}


class VolumesView(GridPage):
    open_requested = Signal(str)  # a local path; the default handler opens the file manager

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Volumes", "About volumes", parent)
        self.rows: list[MountRow] = []
        self.buttons: list[QPushButton] = []
        self.open_requested.connect(
            lambda path: self._open(QUrl.fromLocalFile(path), path, f"No file manager opened "
                                    f"{path}. The path is on the clipboard: paste it into a "
                                    "file manager or a terminal."))
        self.set_mounts([])

    def set_mounts(self, rows: list[MountRow]) -> None:
        if rows == self.rows and self.buttons:
            return
        self.rows = rows
        self._clear_grid()
        self.buttons = []
        if not rows:
            self._intro.setText("This container keeps no files outside itself: everything it "
                                "writes is lost when it is removed or its settings change. "
                                "Add a volume under Settings → Volumes to keep files in a "
                                "folder of this computer.")
            return
        self._intro.setText("Files in these paths live outside the container and survive it:")
        for column, title in enumerate(("In the container", "Kind", "Source", "")):
            self._grid.addWidget(QLabel(f"<b>{title}</b>", self), 0, column)
        for i, row in enumerate(rows, start=1):
            mode = " (read-only)" if row.read_only else ""
            self._grid.addWidget(QLabel(row.destination + mode, self), i, 0)
            self._grid.addWidget(QLabel(_KIND.get(row.type, row.type), self), i, 1)
            self._grid.addWidget(QLabel(row.source or "—", self), i, 2)
            button = QPushButton("Open Folder", self)
            folder = row.folder
            button.setEnabled(folder is not None)
            button.setAccessibleName(f"Open the folder of {row.destination}")
            button.setToolTip(str(folder) if folder else
                              "Only folders of this computer can be opened")
            if folder is not None:
                button.clicked.connect(
                    lambda _c=False, path=str(folder): self.open_requested.emit(path))
            self._grid.addWidget(button, i, 3)
            self.buttons.append(button)
