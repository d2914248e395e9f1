"""One image opened: its layers (drawn and listed) and its config.

Each layer shows its unpacked size, the build step that made it and the other
local images that share it (they store it once). The drawing is the same
:class:`~app.desktop.widgets.layerstack.LayerStack` the "What is this?" tab shows
under a container's writable layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.images.layerrows import image_layer_rows
from app.desktop.images.overview import ImageEntry
from app.desktop.inspect.jsonmodel import JsonModel
from app.desktop.widgets.layerstack import LayerRow, LayerStack
from app.desktop.widgets.rowtable import Column, RowTable
from engine import human_size

__all__ = ["ImageDetail", "LayerInfo", "layer_infos"]


@dataclass(frozen=True)
class LayerInfo:
    row: LayerRow
    shared_with: list[str]  # other images' names


def layer_infos(entry: ImageEntry, entries: Sequence[ImageEntry],
                sizes: dict[str, int]) -> list[LayerInfo]:
    """The image's layers from the top, with who else has each."""
    infos = []
    for row in image_layer_rows(entry.image, sizes):
        others = sorted(e.name for e in entries if e.id != entry.id and
                        any(layer.diff_id == row.digest for layer in e.image.layers))
        infos.append(LayerInfo(row, others))
    return infos


COLUMNS = (
    Column("Layer", lambda i: i.row.label, sort=lambda i: -len(i.row.label)),
    Column("Size", lambda i: human_size(max(i.row.size, 0)), sort=lambda i: i.row.size,
           right=True),
    Column("Made by", lambda i: i.row.made_by, tooltip=lambda i: i.row.made_by),
    Column("Shared with", lambda i: ", ".join(i.shared_with) or "no other image"),
    Column("Digest", lambda i: i.row.digest.removeprefix("sha256:")[:12], mono=True,
           tooltip=lambda i: i.row.digest),
)


class ImageDetail(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.stack = LayerStack(self)
        self.stack.caption = "▼ a container of this image sees these layers merged as its /  ▼"
        self.layers = RowTable(COLUMNS, self)
        self.layer_view = QTableView(self)
        self.layer_view.setAccessibleName("Layers")
        self.layer_view.setModel(self.layers)
        self.layer_view.verticalHeader().hide()
        self.layer_view.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch)
        self.config = JsonModel(self)
        self.config_view = QTreeView(self)
        self.config_view.setAccessibleName("Image config")
        self.config_view.setModel(self.config)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        picture = QWidget(scroll)
        inner = QVBoxLayout(picture)
        inner.addWidget(self.stack)
        inner.addWidget(self.layer_view, 1)
        scroll.setWidget(picture)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(scroll, "Layers")
        self.tabs.addTab(self.config_view, "Config")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)

    def show_image(self, entry: ImageEntry, infos: Sequence[LayerInfo],
                   inspect: dict[str, Any]) -> None:
        users = ", ".join(entry.containers) or "no container"
        self.title.setText(f"<b>{entry.name}</b> · {len(infos)} layers · "
                           f"{human_size(entry.size)} ({human_size(entry.unique)} its own) · "
                           f"used by {users}")
        self.stack.set_rows([i.row for i in infos])
        self.layers.set_rows(list(infos))
        self.layer_view.resizeColumnsToContents()
        self.config.set_document(inspect.get("Config") or {})
        self.config_view.expandToDepth(0)
