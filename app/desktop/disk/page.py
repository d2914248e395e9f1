"""The Disk usage page: what images, containers, volumes, the build cache and
logs take, drawn on one scale, with one button per kind to reclaim its space.

Reclaiming always shows what would go first: images and volumes open their
page's prune preview (``reclaim_requested``), stopped containers and logs are
listed here. Each prune's preview is the engine's dry run of it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.disk import verbs
from app.desktop.disk.bars import DiskBars
from app.desktop.disk.data import Kind, kinds
from app.desktop.widgets.prunedialog import Preview, PruneDialog
from engine import human_size

__all__ = ["DiskPage"]

BLURB = ("What Skiff keeps on this computer's disk. The lighter part of each bar can be "
         "reclaimed: it belongs to nothing in use. Layers two images share count once.")


class DiskPage(QWidget):
    command = Signal(str)
    message = Signal(str)
    changed = Signal()
    reclaim_requested = Signal(str)  # images | volumes: that page's prune preview

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.usage: verbs.Usage | None = None
        self.kinds: list[Kind] = []
        title = QLabel("<b>Disk usage</b>", self)
        blurb = QLabel(BLURB, self)
        blurb.setWordWrap(True)
        self.bars = DiskBars(self)
        self.grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        self.labels: dict[str, QLabel] = {}
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        inner = QWidget(self)
        column = QVBoxLayout(inner)
        column.addWidget(self.bars)
        column.addLayout(self.grid)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(blurb)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.refresh_button)
        self.dialog: Any = None

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        self.command.emit("skiff system df")
        verbs.usage(self.bridge, self._on_usage)

    def _on_usage(self, usage: verbs.Usage) -> None:
        self.usage = usage
        self.kinds = kinds(usage.disk, usage.log_sizes)
        self.bars.set_kinds(self.kinds)
        for number, kind in enumerate(self.kinds):
            button = self.buttons.get(kind.key)
            if button is None:
                button = QPushButton(self)
                button.clicked.connect(lambda _c=False, k=kind.key: self.reclaim(k))
                self.labels[kind.key] = QLabel(self)
                self.grid.addWidget(button, number, 0)
                self.grid.addWidget(self.labels[kind.key], number, 1)
                self.buttons[kind.key] = button
            button.setText(f"Reclaim {human_size(kind.reclaimable)} of {kind.title.lower()}"
                           if kind.can_reclaim else f"{kind.title}: nothing to reclaim")
            button.setEnabled(kind.can_reclaim)
            self.labels[kind.key].setText(kind.reclaims)
        self.changed.emit()

    def reclaim(self, key: str) -> None:
        if key == "containers":
            self.dialog = PruneDialog("Remove stopped containers",
                                      (("stopped", "Every container that is not running"),),
                                      self.container_preview, self._prune_containers, self)
            self.dialog.open()
        elif key == "logs":
            self.dialog = PruneDialog("Delete container logs",
                                      (("stopped", "Logs of the containers not running"),
                                       ("all", "Every container's log")),
                                      self.log_preview, self._clear_logs, self)
            self.dialog.open()
        elif key == "build":
            self.dialog = PruneDialog("Remove the build cache",
                                      (("all", "Every step image and cache volume no build "
                                               "is using"),),
                                      self.cache_preview, self._prune_cache, self)
            self.dialog.open()
        else:
            self.reclaim_requested.emit(key)

    def _logs(self, choice: str) -> list[tuple[str, str, int]]:
        """(ID, name, log size) of each container whose log ``choice`` takes."""
        if self.usage is None:
            return []
        return [(c.container.id, c.container.name, self.usage.log_sizes.get(c.container.id, 0))
                for c in self.usage.disk.containers
                if (choice == "all" or not c.active)
                and self.usage.log_sizes.get(c.container.id, 0) > 0]

    def log_preview(self, choice: str, answer: Callable[[Preview], None],
                    _failed: Callable[[str], None]) -> None:
        logs = self._logs(choice)
        answer(([name for _, name, _ in logs], sum(size for _, _, size in logs)))

    def _clear_logs(self, choice: str) -> None:
        logs = self._logs(choice)

        def cleared(_none: None) -> None:
            self.message.emit(f"Deleted the logs of {len(logs)} containers: "
                              f"{human_size(sum(size for _, _, size in logs))} returned.")
            self.refresh()

        verbs.clear_logs(self.bridge, [cid for cid, _, _ in logs], cleared)

    def container_preview(self, _choice: str, answer: Callable[[Preview], None],
                          failed: Callable[[str], None]) -> None:
        """The engine's dry run of the container prune, by the containers' names."""
        names = {c.container.id: c.container.name
                 for c in (self.usage.disk.containers if self.usage else [])}
        verbs.container_prune_preview(self.bridge, lambda pruned: answer((
            [names.get(i, i[:12]) for i in pruned.deleted], pruned.reclaimed)), failed)

    def cache_preview(self, _choice: str, answer: Callable[[Preview], None],
                      failed: Callable[[str], None]) -> None:
        """The engine's dry run of builder prune -a, each record with its step."""
        steps = {c.id: c.description for c in (self.usage.disk.build_cache
                                               if self.usage else [])}
        verbs.builder_prune_preview(self.bridge, lambda pruned: answer((
            [f"{i[:12]} {steps.get(i, '')}".strip() for i in pruned.deleted],
            pruned.reclaimed)), failed)

    def _prune_cache(self, _choice: str) -> None:
        self.command.emit(shlex.join(["skiff", "builder", "prune", "-a", "-f"]))
        verbs.builder_prune(self.bridge, self._on_cache_pruned)

    def _on_cache_pruned(self, pruned: Any) -> None:
        self.message.emit(f"Removed {len(pruned.deleted)} build cache objects: "
                          f"{human_size(pruned.reclaimed)} returned.")
        self.refresh()

    def _prune_containers(self, _choice: str) -> None:
        self.command.emit(shlex.join(["skiff", "container", "prune", "-f"]))
        verbs.container_prune(self.bridge, self._on_pruned)

    def _on_pruned(self, pruned: Any) -> None:
        self.message.emit(f"Removed {len(pruned.deleted)} containers: "
                          f"{human_size(pruned.reclaimed)} returned.")
        self.refresh()
