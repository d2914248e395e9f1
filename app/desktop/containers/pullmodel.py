"""Per-layer progress of one pull, as a table a view can draw bars from: the
progress of a create job's download (createjob.py), which the image browser shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from engine import PullProgress, human_size

__all__ = ["LayerProgress", "PullModel"]

Index = QModelIndex | QPersistentModelIndex

_STATUS_TEXT = {"waiting": "Waiting", "downloading": "Downloading", "verifying": "Verifying",
                "extracting": "Extracting", "done": "Done", "exists": "Already here"}


@dataclass
class LayerProgress:
    digest: str
    status: str = "waiting"
    current: int = 0
    total: int = 0

    @property
    def complete(self) -> bool:
        return self.status in ("done", "exists")

    @property
    def fraction(self) -> float | None:
        if self.complete:
            return 1.0
        if self.total <= 0:
            return None
        return min(1.0, self.current / self.total)


class PullModel(QAbstractTableModel):
    """Columns: layer, status, progress (``FractionRole`` gives 0..1 or None)."""

    FractionRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._layers: list[LayerProgress] = []
        self._rows: dict[str, int] = {}

    def apply(self, progress: PullProgress) -> None:
        row = self._rows.get(progress.layer)
        if row is None:
            row = len(self._layers)
            self.beginInsertRows(QModelIndex(), row, row)
            self._layers.append(LayerProgress(progress.layer))
            self._rows[progress.layer] = row
            self.endInsertRows()
        layer = self._layers[row]
        layer.status = progress.status
        if progress.total:
            layer.total = progress.total
        layer.current = layer.total if layer.complete and layer.total else progress.current
        self.dataChanged.emit(self.index(row, 0), self.index(row, 2))

    def layers(self) -> list[LayerProgress]:
        return list(self._layers)

    @property
    def total_size(self) -> int:
        return sum(layer.total for layer in self._layers)

    @property
    def total_current(self) -> int:
        return sum(layer.total if layer.complete else layer.current for layer in self._layers)

    @property
    def percent(self) -> int | None:
        """The whole pull in percent, None until a size is known."""
        if self._layers and all(layer.complete for layer in self._layers):
            return 100
        total = self.total_size
        if total <= 0:
            return None
        return min(100, int(100 * self.total_current / total))

    @property
    def complete(self) -> bool:
        return bool(self._layers) and all(layer.complete for layer in self._layers)

    @property
    def unpacking(self) -> bool:
        """Everything is downloaded and a layer is being checked or unpacked."""
        statuses = {layer.status for layer in self._layers}
        return bool(statuses & {"verifying", "extracting"}) and \
            not statuses & {"waiting", "downloading"}

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._layers)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Layer", "Status", "Progress")[section] if 0 <= section < 3 else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._layers):
            return None
        layer = self._layers[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return layer.digest.removeprefix("sha256:")[:12]
            if column == 1:
                return _STATUS_TEXT.get(layer.status, layer.status.capitalize())
            if column == 2:
                if layer.total:
                    return f"{human_size(layer.current)} / {human_size(layer.total)}"
                return human_size(layer.current) if layer.current else ""
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return layer.digest
        if role == self.FractionRole:
            return layer.fraction
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
