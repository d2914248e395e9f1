"""What Is This?, drawn: the container as a box standing on the host's kernel.

Its namespaces are the walls of the box (a wall it shares with the host is drawn
open), its cgroup limits are gauges, its image layers are stacked under its
writable layer (the same drawing as the Images page's), and its network
interface and published ports sit on its roof. A second container drawn next to
it on the same kernel shows "one shared kernel, separate namespaces" at a
glance. Clicking a part emits ``part_clicked`` (walls, gauges, layers, network),
so the view can show the explanation and the live numbers below.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.desktop.learn.sketch import Sketch
from app.desktop.widgets.layerstack import paint_layers, stack_height

__all__ = ["ContainerDrawing"]

MARGIN = 12
BOX_W = 460  # wanted; at least MIN_W
MIN_W = 360
ROOF = 58  # above the box: ports and the interface
BRICK_H = 24
GAUGE_H = 22
KERNEL_H = 44
WALL = QColor("#8d6e63")
OPEN = QColor("#bdbdbd")


class ContainerDrawing(QWidget):
    part_clicked = Signal(str)  # walls | gauges | layers | network

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("What is this, drawn")
        self.sketches: list[Sketch] = []
        self.regions: list[tuple[QRectF, str]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_sketches(self, sketches: Sequence[Sketch]) -> None:
        self.sketches = list(sketches)
        self.setAccessibleDescription(" | ".join(
            f"{s.name}: walls {', '.join(w.kind for w in s.walls if w.own) or 'none'}; "
            f"{len(s.layers)} layers; {s.interface}" for s in self.sketches))
        self.setMinimumWidth(max(1, len(self.sketches)) * (MIN_W + MARGIN) + MARGIN)
        self.updateGeometry()
        self.update()

    def _box_height(self, sketch: Sketch) -> float:
        bricks = (len(sketch.walls) + 3) // 4
        return (34 + (20 + bricks * (BRICK_H + 4) if sketch.walls else 40)
                + 20 + len(sketch.gauges) * (GAUGE_H + 6)
                + 12 + stack_height(len(sketch.layers)) + 12)

    def sizeHint(self) -> QSize:
        tallest = max([self._box_height(s) for s in self.sketches] + [120])
        count = max(1, len(self.sketches))
        return QSize(count * (BOX_W + MARGIN) + MARGIN,
                     int(ROOF + tallest + 30 + KERNEL_H + MARGIN))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for rect, part in self.regions:
            if rect.contains(event.position()):
                self.part_clicked.emit(part)
                break
        super().mousePressEvent(event)

    # -- drawing -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        self.regions = []
        count = max(1, len(self.sketches))
        width = min(BOX_W * 1.4, max(MIN_W, (self.width() - MARGIN) / count - MARGIN))
        tallest = max([self._box_height(s) for s in self.sketches] + [120])
        kernel = QRectF(MARGIN, ROOF + tallest + 30, self.width() - 2 * MARGIN, KERNEL_H)
        for number, sketch in enumerate(self.sketches):
            left = MARGIN + number * (width + MARGIN)
            box = QRectF(left, ROOF, width, self._box_height(sketch))
            self._container(painter, sketch, box, palette)
            painter.setPen(QPen(text, 1, Qt.PenStyle.DashLine))
            for x in (box.left() + 40, box.right() - 40):  # its system calls
                painter.drawLine(QPointF(x, box.bottom()), QPointF(x, kernel.top()))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#37474f"))
        painter.drawRoundedRect(kernel, 8, 8)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(kernel, int(Qt.AlignmentFlag.AlignCenter),
                         "The Linux kernel of this computer: one, shared by the host and "
                         "every container")
        if not self.sketches:
            painter.setPen(text)
            painter.drawText(QRectF(0, 0, self.width(), ROOF + 100),
                             int(Qt.AlignmentFlag.AlignCenter), "Pick a container.")
        painter.end()

    def _container(self, painter: QPainter, sketch: Sketch, box: QRectF,
                   palette: QPalette) -> None:
        text = palette.color(QPalette.ColorRole.WindowText)
        # the roof: interface and ports
        roof = QRectF(box.left(), box.top() - ROOF + 4, box.width(), ROOF - 8)
        self.regions.append((roof, "network"))
        painter.setPen(text)
        painter.drawText(QRectF(roof.left() + 8, roof.top(), roof.width() - 16, 18),
                         int(Qt.AlignmentFlag.AlignLeft), sketch.interface)
        for index, port in enumerate(sketch.ports[:3]):
            x = roof.left() + 20 + index * 150
            painter.setPen(QPen(QColor("#fb8c00"), 2))
            painter.drawLine(QPointF(x, roof.top() + 22), QPointF(x, box.top() - 2))
            painter.drawText(QRectF(x + 6, roof.top() + 20, 140, 16),
                             int(Qt.AlignmentFlag.AlignLeft), port)
        # the walls: its own namespaces solid, the host's shared ones open
        own = all(w.own for w in sketch.walls) and bool(sketch.walls)
        painter.setPen(QPen(WALL if sketch.walls else OPEN, 6 if own else 4,
                            Qt.PenStyle.SolidLine if sketch.walls else Qt.PenStyle.DashLine))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(box, 10, 10)
        painter.setPen(text)
        state = "running" if sketch.running else "not running"
        painter.drawText(QRectF(box.left() + 12, box.top() + 8, box.width() - 24, 20),
                         int(Qt.AlignmentFlag.AlignLeft),
                         f"{sketch.name}  ({state})")
        y = box.top() + 34
        walls = QRectF(box.left() + 10, y, box.width() - 20, 20)
        if sketch.walls:
            painter.drawText(walls, int(Qt.AlignmentFlag.AlignLeft),
                             "Walls (namespaces): what it cannot see")
            y += 20
            brick_w = (box.width() - 20 - 3 * 4) / 4
            for index, wall in enumerate(sketch.walls):
                rect = QRectF(box.left() + 10 + (index % 4) * (brick_w + 4),
                              y + (index // 4) * (BRICK_H + 4), brick_w, BRICK_H)
                painter.setPen(QPen(WALL.darker(130), 1) if wall.own else
                               QPen(OPEN.darker(130), 1, Qt.PenStyle.DashLine))
                painter.setBrush(WALL if wall.own else palette.color(QPalette.ColorRole.Base))
                painter.drawRect(rect)
                painter.setPen(QColor("#ffffff") if wall.own else text)
                painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter),
                                 wall.kind + ("" if wall.own else " (host's)"))
            y += ((len(sketch.walls) + 3) // 4) * (BRICK_H + 4)
        else:
            painter.drawText(QRectF(walls.left(), y, walls.width(), 36),
                             int(Qt.TextFlag.TextWordWrap),
                             "Walls (namespaces) exist only while it runs: start it.")
            y += 40
        self.regions.append((QRectF(box.left(), walls.top(), box.width(), y - walls.top()),
                             "walls"))
        gauges_top = y
        painter.setPen(text)
        painter.drawText(QRectF(box.left() + 10, y, box.width() - 20, 18),
                         int(Qt.AlignmentFlag.AlignLeft), "Gauges (cgroup): its share")
        y += 20
        for gauge in sketch.gauges:
            label = QRectF(box.left() + 10, y, 90, GAUGE_H)
            bar = QRectF(box.left() + 104, y + 3, box.width() - 114, GAUGE_H - 6)
            painter.setPen(text)
            painter.drawText(label, int(Qt.AlignmentFlag.AlignVCenter), gauge.resource)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(OPEN.lighter(115))
            painter.drawRoundedRect(bar, 4, 4)
            if gauge.fraction is not None:
                fill = min(1.0, max(0.0, gauge.fraction))
                colour = QColor("#e53935" if fill > 0.9 else "#fb8c00" if fill > 0.7
                                else "#43a047")
                painter.setBrush(colour)
                painter.drawRoundedRect(QRectF(bar.left(), bar.top(),
                                               max(3.0, bar.width() * fill), bar.height()), 4, 4)
            painter.setPen(text)
            limit = f"limit {gauge.limit}" if gauge.limit != "none" else "no limit"
            painter.drawText(bar.adjusted(6, 0, -6, 0),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight),
                             f"{gauge.now} · {limit}")
            y += GAUGE_H + 6
        self.regions.append((QRectF(box.left(), gauges_top, box.width(), y - gauges_top),
                             "gauges"))
        y += 12
        layers = QRectF(box.left() + 10, y, box.width() - 20, stack_height(len(sketch.layers)))
        paint_layers(painter, layers, sketch.layers, palette,
                     "▼ its files: the layers merged as its /  ▼")
        self.regions.append((layers, "layers"))
