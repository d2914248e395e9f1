"""A picture of the overlay: the image's layers stacked, the writable layer on top.

Beginners see at a glance what the table next to it lists: read-only layers
shared with every container of the image, one writable layer of this
container's own, and the merged view that the container sees as ``/``. The
image browser, the "What is this?" tab and the build dialog all draw with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.desktop.utils import theme
from engine import format_bytes

__all__ = ["LayerRow", "LayerStack", "paint_layers", "stack_height"]

ROW = 30
GAP = 4
MAX_SHOWN = 8


@dataclass(frozen=True)
class LayerRow:
    kind: str  # writable | image
    label: str  # "Writable layer", "Layer 3"
    digest: str
    size: int  # bytes; -1 when unknown
    made_by: str  # the build step, or a description
    read_only: bool


class LayerStack(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Overlay picture")
        self.rows: list[LayerRow] = []
        self.caption = "▼ the container sees all layers merged as its /  ▼"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: Sequence[LayerRow]) -> None:
        self.rows = list(rows)
        self.setAccessibleDescription("; ".join(f"{r.label}: {r.made_by}" for r in self.rows))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, stack_height(len(self.rows)))

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_layers(painter, QRectF(0.5, 0.5, self.width() - 1, self.height() - 1),
                     self.rows, self.palette(), self.caption)
        painter.end()


def stack_height(count: int) -> int:
    """How tall the drawing of ``count`` layers is (see :func:`paint_layers`)."""
    shown = min(count, MAX_SHOWN)
    return 26 + shown * (ROW + GAP) + (20 if count > MAX_SHOWN else 0)


def paint_layers(painter: QPainter, area: QRectF, rows: Sequence[LayerRow],
                 palette: QPalette, caption: str) -> None:
    """The stack, from the top of ``area``: the caption, then one bar per layer (the
    writable one full width, the image's inset under it). Shared by the layer
    pictures of the Images page and of What Is This?, drawn or in a widget."""
    dark = theme.is_dark(palette)
    text = palette.color(QPalette.ColorRole.WindowText)
    metrics = QFontMetrics(painter.font())
    width = area.width()
    left = area.left()
    merged = QRectF(left, area.top(), width, 20)
    painter.setPen(QColor("#1e88e5"))
    painter.drawText(merged, int(Qt.AlignmentFlag.AlignCenter), caption)
    y = area.top() + 26
    shown = list(rows) if len(rows) <= MAX_SHOWN else [*rows[:MAX_SHOWN - 1], rows[-1]]
    for index, row in enumerate(shown):
        if len(rows) > MAX_SHOWN and index == len(shown) - 1:
            painter.setPen(text)
            painter.drawText(QRectF(left, y, width, 16), int(Qt.AlignmentFlag.AlignCenter),
                             f"… {len(rows) - MAX_SHOWN} more layers …")
            y += 20
        inset = 0 if row.kind == "writable" else 12  # the image's layers sit under it
        rect = QRectF(left + inset, y, width - 2 * inset, ROW)
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
