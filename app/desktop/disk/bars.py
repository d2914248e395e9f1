"""The picture of the Disk usage page: one bar per kind, the part that can be
reclaimed drawn lighter, all on one scale so the biggest consumer stands out."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.desktop.disk.data import Kind
from engine import human_size

__all__ = ["ROW", "DiskBars"]

ROW = 56
LABEL = 150
COLOURS = {"images": "#1e88e5", "containers": "#43a047", "volumes": "#8e24aa",
           "build": "#f4511e", "logs": "#6d4c41"}


class DiskBars(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Disk usage picture")
        self.kinds: list[Kind] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_kinds(self, kinds: Sequence[Kind]) -> None:
        self.kinds = list(kinds)
        self.setAccessibleDescription("; ".join(
            f"{k.title}: {human_size(k.size)}, {human_size(k.reclaimable)} reclaimable"
            for k in self.kinds))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, 8 + ROW * max(1, len(self.kinds)))

    def bar_rect(self, number: int) -> QRectF:
        """Where the full-scale bar of row ``number`` goes."""
        return QRectF(LABEL, 8 + number * ROW + 18, max(40, self.width() - LABEL - 12), 22)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        track = self.palette().color(QPalette.ColorRole.Mid)
        largest = max([k.size for k in self.kinds] + [1])
        for number, kind in enumerate(self.kinds):
            top = 8 + number * ROW
            painter.setPen(text)
            painter.drawText(QRectF(0, top + 14, LABEL - 8, 30),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             kind.title)
            painter.drawText(QRectF(LABEL, top, self.width() - LABEL, 16),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             f"{human_size(kind.size)} in {kind.count} "
                             f"({kind.active} in use) · {human_size(kind.reclaimable)} "
                             "reclaimable")
            rect = self.bar_rect(number)
            painter.setPen(Qt.PenStyle.NoPen)
            track.setAlpha(60)
            painter.setBrush(track)
            painter.drawRoundedRect(rect, 4, 4)
            colour = QColor(COLOURS.get(kind.key, "#546e7a"))
            used = rect.width() * kind.size / largest
            if used > 0:
                painter.setBrush(colour)
                painter.drawRoundedRect(QRectF(rect.left(), rect.top(), max(used, 3),
                                               rect.height()), 4, 4)
            free = rect.width() * kind.reclaimable / largest
            if free > 0:
                light = colour.lighter(160)
                painter.setBrush(light)
                painter.drawRoundedRect(QRectF(rect.left() + used - free, rect.top(),
                                               max(free, 3), rect.height()), 4, 4)
        painter.end()
