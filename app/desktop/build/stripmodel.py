"""The layer strip's model: one row a finished build step, in order.

Each row says the step's instruction, the size of the layer it made (or that it
made none: a metadata step) and whether it came from the cache.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.desktop.build.job import StepRow
from engine import human_size

__all__ = ["LayerStripModel"]

_Index = QModelIndex | QPersistentModelIndex
_CACHED = QColor("#d8ecd8")
_MADE = QColor("#d8e4f4")
_EMPTY = QColor("#eeeeee")


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LayerStripModel(QAbstractListModel):
    RowRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.steps: list[StepRow] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.steps)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.steps):
            return None
        row = self.steps[index.row()]
        layer = human_size(row.size) if row.size else "no layer"
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{row.step}. {_short(row.instruction)}\n{layer}" + \
                (" · cached" if row.cached else "")
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return (f"Step {row.step}/{row.total}: {row.instruction}\n"
                    f"{'Layer of ' + layer if row.size else 'No layer (settings only)'}"
                    f"{', from the cache' if row.cached else ''}\nimage {row.image_id[7:19]}")
        if role == Qt.ItemDataRole.BackgroundRole:
            return _CACHED if row.cached else _MADE if row.size else _EMPTY
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor("#202020")
        if role == self.RowRole:
            return row
        return None

    def add(self, row: StepRow) -> None:
        self.beginInsertRows(QModelIndex(), len(self.steps), len(self.steps))
        self.steps.append(row)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.steps = []
        self.endResetModel()
