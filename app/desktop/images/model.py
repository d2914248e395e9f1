"""Local images for the image browser: one row per tag, with who uses each image.

A :class:`~app.desktop.widgets.rowtable.RowTable` like the window's other
tables; what it adds is the rows made from images (a row a tag) and the
containers using each image, which change on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt

from app.desktop.utils.units import age
from app.desktop.widgets.rowtable import Column, Index, RowTable
from engine import Container, Image, human_size, split_familiar

__all__ = ["ImageModel", "ImageRow"]

USERS_COLUMN = 5


@dataclass(frozen=True)
class ImageRow:
    image: Image
    repository: str  # short: busybox, user/app, 127.0.0.1:5000/team/app; "<none>" if untagged
    tag: str
    ref: str  # what to pass to the engine: the full tag, or the ID when untagged


class ImageModel(RowTable):
    ImageRole = RowTable.RowRole + 1
    RefRole = RowTable.RowRole + 2
    UsersRole = RowTable.RowRole + 3

    def __init__(self, parent: QObject | None = None) -> None:
        self._users: dict[str, list[str]] = {}  # image ID → container names
        super().__init__((
            Column("Repository", lambda r: r.repository),
            Column("Tag", lambda r: r.tag),
            Column("Image ID", lambda r: r.image.short_id, tooltip=lambda r: r.image.id),
            Column("Created", lambda r: age(r.image.created), sort=lambda r: r.image.created,
                   tooltip=lambda r: r.image.created),
            Column("Size", lambda r: human_size(r.image.size), sort=lambda r: r.image.size),
            Column("In use by", lambda r: ", ".join(self._users.get(r.image.id, [])),
                   tooltip=self._users_tip),
        ), parent)

    def _users_tip(self, row: ImageRow) -> str:
        users = self._users.get(row.image.id, [])
        return ("Used by " + ", ".join(users)) if users else "Not used by any container"

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
        self.reset_rows(rows)

    def set_containers(self, containers: Iterable[Container]) -> None:
        users: dict[str, list[str]] = {}
        for container in containers:
            users.setdefault(container.config.image_id, []).append(container.name)
        for names in users.values():
            names.sort()
        self._users = users
        if self.rowCount():
            self.dataChanged.emit(self.index(0, USERS_COLUMN),
                                  self.index(self.rowCount() - 1, USERS_COLUMN))

    def users(self, image_id: str) -> list[str]:
        return list(self._users.get(image_id, []))

    def tags_of(self, repository: str) -> list[str]:
        return sorted({r.tag for r in self.rows() if r.repository == repository and r.tag
                       and r.tag != "<none>"})

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (self.ImageRole, self.RefRole, self.UsersRole):
            row = super().data(index, self.RowRole)
            if row is None:
                return None
            if role == self.ImageRole:
                return row.image
            if role == self.RefRole:
                return row.ref
            return self._users.get(row.image.id, [])
        return super().data(index, role)
