"""An editable table of text, number and yes/no columns for the Settings tab's
environment, ports and volumes editors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

__all__ = ["Column", "EditModel"]

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text | bool
    default: Any = ""
    hint: str = ""  # tooltip: what to type


class EditModel(QAbstractTableModel):
    """Rows of values (str for text columns, bool for yes/no columns)."""

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[list[Any]] = []

    def set_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        self.beginResetModel()
        self._rows = [self._normalise(row) for row in rows]
        self.endResetModel()

    def rows(self) -> list[list[Any]]:
        return [list(row) for row in self._rows]

    def add_row(self, values: Sequence[Any] = ()) -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(self._normalise(values))
        self.endInsertRows()
        return row

    def remove_rows(self, rows: Iterable[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self._rows):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()

    def set_value(self, row: int, column: int, value: Any) -> None:
        self.setData(self.index(row, column), value, Qt.ItemDataRole.EditRole)

    def _normalise(self, values: Sequence[Any]) -> list[Any]:
        out = []
        for i, column in enumerate(self._columns):
            value = values[i] if i < len(values) else column.default
            out.append(bool(value) if column.kind == "bool" else ("" if value is None
                                                                   else str(value)))
        return out

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._columns[section].hint or None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = self._columns[index.column()]
        value = self._rows[index.row()][index.column()]
        if column.kind == "bool":
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{column.title}: {'yes' if value else 'no'}"
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.hint or None
        return None

    def setData(self, index: Index, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return False
        column = self._columns[index.column()]
        if column.kind == "bool":
            if role != Qt.ItemDataRole.CheckStateRole and role != Qt.ItemDataRole.EditRole:
                return False
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, True)
            self._rows[index.row()][index.column()] = checked
        else:
            if role != Qt.ItemDataRole.EditRole:
                return False
            self._rows[index.row()][index.column()] = "" if value is None else str(value)
        self.dataChanged.emit(index, index, [role])
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren
        if self._columns[index.column()].kind == "bool":
            return flags | Qt.ItemFlag.ItemIsUserCheckable
        return flags | Qt.ItemFlag.ItemIsEditable
