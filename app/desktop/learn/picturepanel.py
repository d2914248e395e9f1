"""The top of What Is This?: the container drawn, and another one beside it.

"Compare with" picks a second container; both are drawn on the same kernel,
each with its own walls. The panel gathers the second container's facts the
way the view gathers the first's (``gather``), through the bridge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.desktop.bridge import Bridge
from app.desktop.learn.data import LearnFacts
from app.desktop.learn.drawing import ContainerDrawing
from app.desktop.learn.sketch import Sketch, sketch
from engine import Container

__all__ = ["PicturePanel"]

Gather = Callable[[Any, Container], Awaitable[LearnFacts]]


class PicturePanel(QWidget):
    drawn = Signal()  # the drawing changed

    def __init__(self, bridge: Bridge, gather: Gather, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._gather = gather
        self.drawing = ContainerDrawing(self)
        self.first: Sketch | None = None
        self.second: Sketch | None = None
        self.containers: dict[str, Container] = {}
        self.compare = QComboBox(self)
        self.compare.setAccessibleName("Compare with")
        self.compare.addItem("nothing", "")
        self.compare.activated.connect(lambda _i: self.compare_with(
            str(self.compare.currentData() or "")))
        row = QHBoxLayout()
        row.addWidget(QLabel("Draw next to it:", self))
        row.addWidget(self.compare)
        row.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.drawing)
        scroll.setMinimumHeight(self.drawing.sizeHint().height())
        self.scroller = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(scroll)
        bridge.containers_listed.connect(self._on_bridge_containers_listed)
        bridge.containers_changed.connect(self._on_bridge_containers_changed)
        bridge.container_removed.connect(self._on_bridge_container_removed)

    def _on_bridge_containers_listed(self, containers: list[Container]) -> None:
        self.containers = {c.id: c for c in containers}
        self._fill()

    def _on_bridge_containers_changed(self, containers: list[Container]) -> None:
        self.containers.update({c.id: c for c in containers})
        self._fill()

    def _on_bridge_container_removed(self, container_id: str) -> None:
        self.containers.pop(container_id, None)
        if self.second is not None and self.second.container_id == container_id:
            self.second = None
            self._draw()
        self._fill()

    def _fill(self) -> None:
        chosen = self.compare.currentData()
        mine = self.first.container_id if self.first is not None else ""
        self.compare.blockSignals(True)
        self.compare.clear()
        self.compare.addItem("nothing", "")
        for container in sorted(self.containers.values(), key=lambda c: c.name):
            if container.id != mine:
                self.compare.addItem(container.name, container.id)
        index = self.compare.findData(chosen)
        self.compare.setCurrentIndex(max(0, index))
        self.compare.blockSignals(False)

    def show_facts(self, facts: LearnFacts | None) -> None:
        self.first = sketch(facts) if facts is not None else None
        if self.second is not None and self.first is not None and \
                self.second.container_id == self.first.container_id:
            self.second = None
        self._fill()
        self._draw()

    def compare_with(self, container_id: str) -> None:
        container = self.containers.get(container_id)
        if container is None:
            self.second = None
            self._draw()
            return
        index = self.compare.findData(container_id)
        if index >= 0:
            self.compare.setCurrentIndex(index)

        def done(facts: LearnFacts) -> None:
            self.second = sketch(facts)
            self._draw()

        self.bridge.submit(f"read the parts of {container.name}",
                           lambda e: self._gather(e, container), done)

    def _draw(self) -> None:
        self.drawing.set_sketches([s for s in (self.first, self.second) if s is not None])
        self.scroller.setMinimumHeight(min(self.drawing.sizeHint().height() + 4, 900))
        self.drawn.emit()
