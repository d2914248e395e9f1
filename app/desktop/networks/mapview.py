"""The network map, drawn: this computer on top, each network as a switch under
it, the containers under the switches they are plugged into, and published
ports as arrows from the host's port down to the container's.

Beginners see at once who can reach whom: two containers reach each other only
through a switch they share; the outside world reaches a container only along
an arrow. Clicking a container emits ``container_clicked`` with its ID.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.desktop.networks.mapdata import MapData

__all__ = ["NetworkMap"]

HOST_H = 54
SWITCH_Y = 120
SWITCH_H = 46
NODE_Y = 250
NODE_W = 150
NODE_H = 52
GAP = 24
COLOURS = ("#1e88e5", "#43a047", "#8e24aa", "#f4511e", "#00897b", "#6d4c41", "#c0ca33")


class NetworkMap(QWidget):
    container_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Network map")
        self.data = MapData([], [], [], [])
        self.selected = ""
        self.node_rects: dict[str, QRectF] = {}
        self.switch_rects: dict[str, QRectF] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def set_data(self, data: MapData) -> None:
        self.data = data
        self.setAccessibleDescription(
            "; ".join(f"{n.name} on {', '.join(n.networks)}" for n in data.nodes)
            + "; " + "; ".join(f"{a.host} to {a.target}" for a in data.arrows))
        self._place()
        self.updateGeometry()
        self.update()

    def set_selected(self, container_id: str) -> None:
        self.selected = container_id
        self.update()

    def sizeHint(self) -> QSize:
        width = max(640, len(self.data.nodes) * (NODE_W + GAP) + GAP)
        return QSize(width, NODE_Y + NODE_H + 60)

    def resizeEvent(self, event: object) -> None:
        self._place()

    def _place(self) -> None:
        """Switches spread across; containers under their first network, in order."""
        width = max(self.width(), self.sizeHint().width())
        count = max(1, len(self.data.switches))
        slot = width / count
        self.switch_rects = {
            s.name: QRectF(i * slot + 12, SWITCH_Y, slot - 24, SWITCH_H)
            for i, s in enumerate(self.data.switches)}
        order = {s.name: i for i, s in enumerate(self.data.switches)}
        nodes = sorted(self.data.nodes, key=lambda n: (order.get(n.networks[0], 99), n.name))
        step = max(NODE_W + GAP, width / max(1, len(nodes)))
        self.node_rects = {n.container_id: QRectF(i * step + (step - NODE_W) / 2, NODE_Y,
                                                  NODE_W, NODE_H)
                           for i, n in enumerate(nodes)}

    def node_at(self, point: QPointF) -> str:
        return next((cid for cid, rect in self.node_rects.items() if rect.contains(point)), "")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        found = self.node_at(event.position())
        if found:
            self.set_selected(found)
            self.container_clicked.emit(found)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hand = Qt.CursorShape.PointingHandCursor if self.node_at(event.position()) \
            else Qt.CursorShape.ArrowCursor
        self.setCursor(hand)

    # -- drawing -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        base = self.palette().color(QPalette.ColorRole.Base)
        width = self.width()
        host = QRectF(12, 8, width - 24, HOST_H)
        painter.setPen(QPen(text, 1.5))
        painter.setBrush(self.palette().color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(host, 8, 8)
        painter.drawText(host.adjusted(12, 4, -12, -4),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                         "This computer (the host)")
        colours = {s.name: QColor(COLOURS[i % len(COLOURS)])
                   for i, s in enumerate(self.data.switches)}
        painter.setPen(QPen(text, 1, Qt.PenStyle.DotLine))
        for net in self.data.switches:  # the host is each network's gateway
            rect = self.switch_rects[net.name]
            top = QPointF(rect.left() + 30, host.bottom())
            painter.drawLine(top, QPointF(rect.left() + 30, rect.top()))
            if net.gateway:
                painter.drawText(QRectF(rect.left() + 34, host.bottom() + 4, 200, 16),
                                 int(Qt.AlignmentFlag.AlignLeft), f"gateway {net.gateway}")
        labels: dict[str, int] = {}
        for link in self.data.links:  # cables first, under the boxes
            hub = self.switch_rects.get(link.network)
            box = self.node_rects.get(link.container_id)
            if hub is None or box is None:
                continue
            painter.setPen(QPen(colours[link.network], 2.5))
            start = QPointF(hub.center().x(), hub.bottom())
            end = QPointF(box.center().x(), box.top())
            path = QPainterPath(start)
            path.cubicTo(QPointF(start.x(), start.y() + 50), QPointF(end.x(), end.y() - 50),
                         end)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            shown = labels.get(link.container_id, 0)
            labels[link.container_id] = shown + 1
            painter.drawText(QRectF(box.left() + 2, box.bottom() + 2 + shown * 15, NODE_W, 15),
                             int(Qt.AlignmentFlag.AlignLeft),
                             f"{link.network}: {link.address.split('/')[0]}")
        for switch in self.data.switches:
            rect = self.switch_rects[switch.name]
            painter.setPen(QPen(colours[switch.name].darker(130), 1.5))
            painter.setBrush(colours[switch.name])
            painter.drawRoundedRect(rect, 6, 6)
            for port in range(6):  # the switch's little ports
                x = rect.left() + 10 + port * 10
                painter.fillRect(QRectF(x, rect.bottom() - 10, 6, 5), QColor("#ffffff"))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(rect.adjusted(8, 2, -8, -12), int(Qt.AlignmentFlag.AlignCenter),
                             f"{switch.name}  {switch.subnet}".strip())
        arrows_per_node: dict[str, int] = {}
        for arrow in self.data.arrows:
            box = self.node_rects.get(arrow.container_id)
            if box is None:
                continue
            index = arrows_per_node.get(arrow.container_id, 0)
            arrows_per_node[arrow.container_id] = index + 1
            x = box.right() - 14 - index * 18
            self._arrow(painter, QPointF(x, host.bottom()), QPointF(x, box.top()),
                        f"{arrow.host.rsplit(':', 1)[1]} → {arrow.target}", index)
        for node in self.data.nodes:
            rect = self.node_rects[node.container_id]
            chosen = node.container_id == self.selected
            painter.setPen(QPen(QColor("#1e88e5") if chosen else text, 3 if chosen else 1.2))
            painter.setBrush(base)
            painter.drawRoundedRect(rect, 8, 8)
            painter.setPen(text)
            painter.drawText(rect.adjusted(8, 4, -8, -4), int(Qt.AlignmentFlag.AlignCenter),
                             f"{node.name}\n({len(node.networks)} network"
                             f"{'s' if len(node.networks) != 1 else ''})")
        if not self.data.nodes:
            painter.setPen(text)
            painter.drawText(QRectF(0, NODE_Y, width, 40), int(Qt.AlignmentFlag.AlignCenter),
                             "No running container is on a network.")
        painter.end()

    def _arrow(self, painter: QPainter, start: QPointF, end: QPointF, label: str,
               index: int) -> None:
        colour = QColor("#fb8c00")
        pen = QPen(colour, 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(start, QPointF(end.x(), end.y() - 8))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(QPolygonF([QPointF(end.x() - 6, end.y() - 10),
                                       QPointF(end.x() + 6, end.y() - 10), end]))
        painter.setPen(colour.darker(140))
        painter.drawText(QRectF(start.x() - 120, start.y() + 4 + index * 16, 116, 16),
                         int(Qt.AlignmentFlag.AlignRight), label)
