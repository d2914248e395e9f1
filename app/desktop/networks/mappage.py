"""The Network map page: the live picture of who is plugged into what.

It draws afresh whenever a network or a container changes (whoever changed it:
this window or the CLI); clicking a container selects it in the list.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.desktop.bridge import Bridge
from app.desktop.networks import verbs
from app.desktop.networks.mapdata import MapData
from app.desktop.networks.mapview import NetworkMap
from engine import Event

__all__ = ["MapPage"]

BLURB = ("Each coloured box is a network, a switch that containers plug into. Containers "
         "on the same switch reach each other by name; orange arrows are published ports, "
         "the only way in from outside. Click a container to select it.")


class MapPage(QWidget):
    command = Signal(str)
    message = Signal(str)
    changed = Signal()
    container_clicked = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.map = NetworkMap(self)
        self.map.container_clicked.connect(self.container_clicked)
        title = QLabel("<b>Network map</b>", self)
        blurb = QLabel(BLURB, self)
        blurb.setWordWrap(True)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.map)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(blurb)
        layout.addWidget(scroll, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.refresh)
        bridge.event_received.connect(self._on_bridge_event_received)

    def _on_bridge_event_received(self, event: Event) -> None:
        if event.type in ("network", "container") and self.isVisible():
            self._timer.start()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        verbs.map_listing(self.bridge, self._on_map)

    def _on_map(self, data: MapData) -> None:
        self.map.set_data(data)
        self.changed.emit()
