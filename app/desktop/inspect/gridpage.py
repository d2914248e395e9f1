"""A details tab that is a sentence above a grid of rows (Ports, Volumes).

The grid is rebuilt whenever its rows change; its buttons hand URLs to the
desktop, and when nothing takes one the page says so through ``failed``.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app.desktop.utils.external import open_or_copy

__all__ = ["GridPage"]


class GridPage(QWidget):
    failed = Signal(str)  # nothing opened a URL: a sentence for the user

    def __init__(self, name: str, intro_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(name)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(16)
        self._intro = QLabel(self)
        self._intro.setWordWrap(True)
        self._intro.setAccessibleName(intro_name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self._intro)
        layout.addLayout(self._grid)
        layout.addStretch(1)

    def _clear_grid(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def _open(self, url: QUrl, text: str, failure: str) -> None:
        if not open_or_copy(url, text):
            self.failed.emit(failure)
