"""Local images for the image browser: one row per tag, with who uses each image."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.desktop.utils.units import age
from engine import Container, Image, human_size, split_familiar

__all__ = ["ImageModel", "ImageRow"]

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Repository", "Tag", "Image ID", "Created", "Size", "In use by")


@dataclass(frozen=True)
class ImageRow:
    image: Image
    repository: str  # short: busybox, user/app, 127.0.0.1:5000/team/app; "<none>" if untagged
    tag: str
    ref: str  # what to pass to the engine: the full tag, or the ID when untagged


class ImageModel(QAbstractTableModel):
    ImageRole = Qt.ItemDataRole.UserRole + 1
    RefRole = Qt.ItemDataRole.UserRole + 2
    UsersRole = Qt.ItemDataRole.UserRole + 3
    SortRole = Qt.ItemDataRole.UserRole + 4

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ImageRow] = []
        self._users: dict[str, list[str]] = {}  # image ID → container names

    def set_images(self, images: Iterable[Image]) -> None:
        rows: list[ImageRow] = []
        for image in images:
            if image.repo_tags:
                for tag in image.repo_tags:
                    repository, name_tag, _ = split_familiar(tag)
                    rows.append(ImageRow(image, repository, name_tag, tag))
            else:
                rows.append(ImageRow(image, "<none>", "<none>", image.id))
        rows.sort(key=lambda r: (r.repository.casefold(), r.tag))
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def set_containers(self, containers: Iterable[Container]) -> None:
        users: dict[str, list[str]] = {}
        for container in containers:
            users.setdefault(container.config.image_id, []).append(container.name)
        for names in users.values():
            names.sort()
        self._users = users
        if self._rows:
            self.dataChanged.emit(self.index(0, 5), self.index(len(self._rows) - 1, 5))

    def users(self, image_id: str) -> list[str]:
        return list(self._users.get(image_id, []))

    def row(self, row: int) -> ImageRow:
        return self._rows[row]

    def rows(self) -> list[ImageRow]:
        return list(self._rows)

    def tags_of(self, repository: str) -> list[str]:
        return sorted({r.tag for r in self._rows if r.repository == repository and r.tag
                       and r.tag != "<none>"})

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        image = row.image
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.repository
            if column == 1:
                return row.tag
            if column == 2:
                return image.short_id
            if column == 3:
                return age(image.created)
            if column == 4:
                return human_size(image.size)
            if column == 5:
                return ", ".join(self._users.get(image.id, []))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 2:
                return image.id
            if column == 3:
                return image.created
            if column == 5:
                users = self._users.get(image.id, [])
                return ("Used by " + ", ".join(users)) if users else "Not used by any container"
        if role == self.SortRole:
            if column == 3:
                return image.created
            if column == 4:
                return image.size
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == self.ImageRole:
            return image
        if role == self.RefRole:
            return row.ref
        if role == self.UsersRole:
            return self._users.get(image.id, [])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren
