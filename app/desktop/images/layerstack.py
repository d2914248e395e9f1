"""A picture of the overlay: the image's layers stacked, the writable layer on top.

Beginners see at a glance what the table next to it lists: read-only layers
shared with every container of the image, one writable layer of this
container's own, and the merged view that the container sees as ``/``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.desktop.learn.data import LayerRow
from app.desktop.utils import theme
from engine.containers.explain import format_bytes

__all__ = ["LayerStack"]

ROW = 30
GAP = 4
MAX_SHOWN = 8


class LayerStack(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Overlay picture")
        self.rows: list[LayerRow] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: Sequence[LayerRow]) -> None:
        self.rows = list(rows)
        self.setAccessibleDescription("; ".join(f"{r.label}: {r.made_by}" for r in self.rows))
        self.updateGeometry()
        self.update()

    def _shown(self) -> list[LayerRow]:
        if len(self.rows) <= MAX_SHOWN:
            return self.rows
        return [*self.rows[:MAX_SHOWN - 1], self.rows[-1]]

    def sizeHint(self) -> QSize:
        count = len(self._shown())
        return QSize(420, 26 + count * (ROW + GAP) + (20 if len(self.rows) > MAX_SHOWN else 0))

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        dark = theme.is_dark(palette)
        text = palette.color(QPalette.ColorRole.WindowText)
        metrics = QFontMetrics(self.font())
        width = self.width() - 1
        top = 0.5
        merged = QRectF(0.5, top, width, 20)
        painter.setPen(QColor("#1e88e5"))
        painter.drawText(merged, int(Qt.AlignmentFlag.AlignCenter),
                         "▼ the container sees all layers merged as its /  ▼")
        y = top + 26
        shown = self._shown()
        for index, row in enumerate(shown):
            if len(self.rows) > MAX_SHOWN and index == len(shown) - 1:
                painter.setPen(text)
                painter.drawText(QRectF(0, y, width, 16), int(Qt.AlignmentFlag.AlignCenter),
                                 f"… {len(self.rows) - MAX_SHOWN} more layers …")
                y += 20
            inset = 0 if row.kind == "writable" else 12  # the image's layers sit under it
            rect = QRectF(0.5 + inset, y, width - 2 * inset, ROW)
            if row.kind == "writable":
                fill = QColor("#2e7d32" if not dark else "#388e3c")
            else:
                fill = QColor("#546e7a" if not dark else "#455a64")
                fill = fill.lighter(100 + 6 * (index % 3))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(rect, 5, 5)
            painter.setPen(QColor("#ffffff"))
            size = f" · {format_bytes(row.size)}" if row.size >= 0 else ""
            mode = "read-write" if not row.read_only else "read-only"
            label = f"{row.label} ({mode}){size}: {row.made_by}"
            painter.drawText(rect.adjusted(10, 0, -10, 0),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                             metrics.elidedText(label, Qt.TextElideMode.ElideRight,
                                                int(rect.width() - 20)))
            y += ROW + GAP
        painter.end()
