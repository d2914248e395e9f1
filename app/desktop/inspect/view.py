"""The Inspect tab: the container's whole configuration and state as a tree."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTreeView, QVBoxLayout, QWidget

from app.desktop.inspect.jsonmodel import JsonModel

__all__ = ["InspectView"]


class InspectView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Inspect")
        self.model = JsonModel(self)
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setAccessibleName("Container configuration and state")
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().resizeSection(0, 240)
        self.copy = QPushButton("Copy as JSON", self)
        self.copy.setAccessibleName("Copy as JSON")
        self.copy.setToolTip("Copy the whole document, or the selected part, as JSON")
        self.copy.clicked.connect(self.copy_json)
        expand = QPushButton("Expand All", self)
        expand.setAccessibleName("Expand all")
        expand.clicked.connect(self.tree.expandAll)
        collapse = QPushButton("Collapse All", self)
        collapse.setAccessibleName("Collapse all")
        collapse.clicked.connect(self.tree.collapseAll)
        row = QHBoxLayout()
        row.addWidget(self.copy)
        row.addWidget(expand)
        row.addWidget(collapse)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(row)
        layout.addWidget(self.tree, 1)
        self._first = True

    def set_document(self, document: dict[str, Any]) -> None:
        """Show ``document``, keeping the branches the user opened."""
        opened = self._expanded_paths() if not self._first else {"State"}
        self._first = False
        self.model.set_document(document)
        self._expand_paths(opened, QModelIndex())

    def clear(self) -> None:
        self._first = True
        self.model.set_document({})

    def _expanded_paths(self, parent: QModelIndex | None = None) -> set[str]:
        parent = parent or QModelIndex()
        found: set[str] = set()
        for row in range(self.model.rowCount(parent)):
            index = self.model.index(row, 0, parent)
            if self.tree.isExpanded(index):
                found.add(str(index.data(JsonModel.PathRole)))
                found |= self._expanded_paths(index)
        return found

    def _expand_paths(self, paths: set[str], parent: QModelIndex) -> None:
        for row in range(self.model.rowCount(parent)):
            index = self.model.index(row, 0, parent)
            if str(index.data(JsonModel.PathRole)) in paths:
                self.tree.expand(index)
                self._expand_paths(paths, index)

    def copy_json(self) -> str:
        current = self.tree.currentIndex()
        selected = self.tree.selectionModel().isSelected(current) if current.isValid() \
            else False
        text = self.model.to_json(current.siblingAtColumn(0) if selected else None)
        QGuiApplication.clipboard().setText(text)
        return text
