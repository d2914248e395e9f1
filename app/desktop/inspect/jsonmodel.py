"""A JSON document as a tree of key/value rows, for the Inspect tab."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

__all__ = ["JsonModel"]

Index = QModelIndex | QPersistentModelIndex


class _Node:
    __slots__ = ("children", "key", "parent", "row", "value")

    def __init__(self, key: str, value: Any, parent: _Node | None, row: int) -> None:
        self.key = key
        self.value = value
        self.parent = parent
        self.row = row
        self.children: list[_Node] = []
        if isinstance(value, dict):
            self.children = [_Node(str(k), v, self, i) for i, (k, v) in enumerate(value.items())]
        elif isinstance(value, list):
            self.children = [_Node(f"[{i}]", v, self, i) for i, v in enumerate(value)]


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} keys}}" if len(value) != 1 else "{1 key}"
    if isinstance(value, list):
        return f"[{len(value)} items]" if len(value) != 1 else "[1 item]"
    if isinstance(value, str):
        return value
    return json.dumps(value)


class JsonModel(QAbstractItemModel):
    """Columns: key, value (containers show a summary); ``ValueRole`` gives the JSON value."""

    ValueRole = Qt.ItemDataRole.UserRole + 1
    PathRole = Qt.ItemDataRole.UserRole + 2

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("", {}, None, 0)
        self._document: Any = {}

    def set_document(self, document: Any) -> None:
        self.beginResetModel()
        self._document = document
        self._root = _Node("", document, None, 0)
        self.endResetModel()

    def document(self) -> Any:
        return self._document

    def to_json(self, index: Index | None = None) -> str:
        """The whole document, or the subtree at ``index``, as indented JSON."""
        value = self._document if index is None or not index.isValid() else \
            self._node(index).value
        return json.dumps(value, indent=2, ensure_ascii=False)

    def _node(self, index: Index) -> _Node:
        if not index.isValid():
            return self._root
        node = index.internalPointer()
        assert isinstance(node, _Node)
        return node

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column not in (0, 1) or row < 0:
            return QModelIndex()
        node = self._node(parent) if parent.isValid() else self._root
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        if row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self._node(index).parent
        if node is None or node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 2

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Key", "Value")[section] if 0 <= section < 2 else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if index.column() == 0:
                return node.key
            return _summary(node.value)
        if role == self.ValueRole:
            return node.value
        if role == self.PathRole:
            parts = []
            walk: _Node | None = node
            while walk is not None and walk is not self._root:
                parts.append(walk.key)
                walk = walk.parent
            return ".".join(reversed(parts)).replace(".[", "[")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
