"""The sidebar's rows: the engine's containers plus the ones the app is making.

:class:`ContainerModel` keeps the rows in arrival order and changes them in
place (so selections survive updates), with a header row for each compose
project (containers/projectrows.py); :class:`ContainerSortModel` sorts the
projects first, each one's containers under its header (hidden while collapsed),
then the other containers running first and by name, and applies the filter box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.desktop.containers.badges import Badge, container_badge, job_badge, sort_group
from app.desktop.containers.projectrows import header_key, project_badge, project_of
from app.desktop.widgets.rowtable import row_flags
from engine import Container, familiar

if TYPE_CHECKING:
    from app.desktop.containers.createjob import CreateJob

__all__ = ["ContainerModel", "ContainerSortModel", "Entry"]

Index = QModelIndex | QPersistentModelIndex

#: An image's short name, parsed once: containers share a few images.
_familiar = lru_cache(maxsize=512)(familiar)


@dataclass
class Entry:
    key: str  # the container ID, or the job's key
    name: str
    image: str
    badge: Badge
    container: Container | None = None
    job: CreateJob | None = None
    project: str = ""  # the compose project it belongs to, or that a header row stands for
    header: bool = False


def _entry(container: Container) -> Entry:
    return Entry(container.id, container.name, _familiar(container.config.image),
                 container_badge(container.state), container, project=project_of(container))


def _header(project: str, members: list[Container]) -> Entry:
    count = len(members)
    return Entry(header_key(project), project,
                 f"compose · {count} container{'s' if count != 1 else ''}",
                 project_badge(members), project=project, header=True)


def sort_key(entry: Entry) -> str:
    """Where the row sorts: compose projects first, by name, each header above its
    containers, then the other containers; running ones first in each, then by name.
    One string (fields joined by NUL, which sorts before any character: as a tuple of
    them would) so that the sort compares in C++ rather than calling Python each time."""
    name, group, project = entry.name, sort_group(entry.badge.kind), entry.project
    if not project:  # after the projects
        fields = ("1", "", "0", str(group), name.casefold(), name)
    elif entry.header:
        fields = ("0", project.casefold(), "0", "0", "", project)
    else:
        fields = ("0", project.casefold(), "1", str(group), name.casefold(), name)
    return "\0".join(fields)


def _last_probe(entry: Entry) -> str:
    """With a healthcheck: what its last probe said (the first lines), for the tooltip."""
    health = entry.container.state.health if entry.container is not None else None
    if health is None or not health.log:
        return ""
    last = health.log[-1]
    output = "\n".join(last.output.strip().splitlines()[:5]) or "(no output)"
    return f"\nLast health check (exit {last.exit_code}):\n{output}"


class ContainerModel(QAbstractListModel):
    KeyRole = Qt.ItemDataRole.UserRole + 1
    ImageRole = Qt.ItemDataRole.UserRole + 2
    BadgeKindRole = Qt.ItemDataRole.UserRole + 3
    BadgeTextRole = Qt.ItemDataRole.UserRole + 4
    ContainerRole = Qt.ItemDataRole.UserRole + 5
    JobRole = Qt.ItemDataRole.UserRole + 6
    GroupRole = Qt.ItemDataRole.UserRole + 7
    ProjectRole = Qt.ItemDataRole.UserRole + 8
    HeaderRole = Qt.ItemDataRole.UserRole + 9
    SortRole = Qt.ItemDataRole.UserRole + 10  # sort_key()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[Entry] = []
        self._rows: dict[str, int] = {}

    # -- changes ----------------------------------------------------------------------

    def sync(self, containers: Iterable[Container]) -> None:
        """Make the engine's rows exactly ``containers`` (jobs stay)."""
        containers = list(containers)
        wanted = {c.id for c in containers}
        gone = [e.key for e in self._entries if e.container is not None and e.key not in wanted]
        for key in gone:
            self.remove(key)
        self.update(containers)

    def update(self, containers: Iterable[Container]) -> None:
        """Change rows in place, appending new containers at the end."""
        new: list[Entry] = []
        for container in containers:
            row = self._rows.get(container.id)
            if row is None:
                new.append(_entry(container))
                continue
            if self._entries[row].container != container:  # (each listing: most are not)
                self._entries[row] = _entry(container)
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)
        self._sync_projects(new)  # headers first: new rows sort under them
        self._append(new)

    def _append(self, new: list[Entry]) -> None:
        if new:
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for entry in new:
                self._rows[entry.key] = len(self._entries)
                self._entries.append(entry)
            self.endInsertRows()

    def remove(self, key: str) -> None:
        self._remove_row(key)
        self._sync_projects()

    def _remove_row(self, key: str) -> None:
        row = self._rows.get(key)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._entries[row]
        self._rows = {entry.key: i for i, entry in enumerate(self._entries)}
        self.endRemoveRows()

    def _sync_projects(self, coming: Sequence[Entry] = ()) -> None:
        """One header row per project that has containers (with those ``coming``), its
        badge their overall status."""
        members: dict[str, list[Container]] = {}
        for entry in [*self._entries, *coming]:
            if entry.project and entry.container is not None and not entry.header:
                members.setdefault(entry.project, []).append(entry.container)
        for entry in [e for e in self._entries if e.header and e.project not in members]:
            self._remove_row(entry.key)
        new = []
        for project, containers in members.items():
            header = _header(project, containers)
            row = self._rows.get(header.key)
            if row is None:
                new.append(header)
                continue
            entry = self._entries[row]
            if (entry.image, entry.badge) != (header.image, header.badge):
                self._entries[row] = header
                self.dataChanged.emit(self.index(row, 0), self.index(row, 0))
        self._append(new)

    def members(self, project: str) -> list[Container]:
        return [e.container for e in self._entries
                if e.project == project and not e.header and e.container is not None]

    def add_job(self, job: CreateJob) -> None:
        row = len(self._entries)
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.append(Entry(job.key, job.name, familiar(job.ref),
                                   job_badge(job.phase, job.percent, job.layers.unpacking),
                                   job=job))
        self._rows[job.key] = row
        self.endInsertRows()
        job.phase_changed.connect(lambda _phase, job=job: self._on_job_changed(job))
        job.progressed.connect(lambda job=job: self._on_job_changed(job))

    def _on_job_changed(self, job: CreateJob) -> None:
        row = self._rows.get(job.key)
        if row is None:
            return
        if not job.active:
            self.remove(job.key)
            return
        badge = job_badge(job.phase, job.percent, job.layers.unpacking)
        entry = self._entries[row]
        if badge != entry.badge:
            entry.badge = badge
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    # -- queries ----------------------------------------------------------------------

    def entry(self, key: str) -> Entry | None:
        row = self._rows.get(key)
        return self._entries[row] if row is not None else None

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def names(self) -> set[str]:
        return {entry.name for entry in self._entries if not entry.header}

    def row_of(self, key: str) -> int | None:
        return self._rows.get(key)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == self.SortRole:  # first: the sort asks for it twice a comparison
            return sort_key(entry)
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.name
        if role == Qt.ItemDataRole.AccessibleTextRole and entry.header:
            return f"Project {entry.name}, {entry.image}, {entry.badge.text}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{entry.name}, {entry.image}, {entry.badge.text}"
        if role == Qt.ItemDataRole.ToolTipRole and entry.header:
            return f"Compose project {entry.name}: {entry.badge.text}\n" + "\n".join(
                f"{c.name}: {container_badge(c.state).text}" for c in self.members(entry.name))
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{entry.name}\n{entry.image}\n{entry.badge.text}" + _last_probe(entry)
        if role == self.KeyRole:
            return entry.key
        if role == self.ImageRole:
            return entry.image
        if role == self.BadgeKindRole:
            return entry.badge.kind
        if role == self.BadgeTextRole:
            return entry.badge.text
        if role == self.ContainerRole:
            return entry.container
        if role == self.JobRole:
            return entry.job
        if role == self.GroupRole:
            return sort_group(entry.badge.kind)
        if role == self.ProjectRole:
            return entry.project
        if role == self.HeaderRole:
            return entry.header
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return row_flags(index)


class ContainerSortModel(QSortFilterProxyModel):
    """Compose projects first, by name, each with its containers under its header (hidden
    while it is collapsed); then the other containers, running (and being made) first, then
    by name. The filter matches name, image or project."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._collapsed: set[str] = set()
        self.setSortRole(ContainerModel.SortRole)
        self.setDynamicSortFilter(True)
        self.sort(0)

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+: invalidateFilter is deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def set_filter_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_needle", text.strip().casefold()))

    def is_collapsed(self, project: str) -> bool:
        return project in self._collapsed

    def set_collapsed(self, project: str, collapsed: bool) -> None:
        if collapsed != self.is_collapsed(project):
            self._refilter(lambda: (self._collapsed.add if collapsed
                                    else self._collapsed.discard)(project))

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._needle and not self._collapsed:
            return True
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        project = str(model.data(index, ContainerModel.ProjectRole) or "")
        header = bool(model.data(index, ContainerModel.HeaderRole))
        if project and not header and project in self._collapsed:
            return False
        if not self._needle:
            return True
        if header and isinstance(model, ContainerModel):
            return self._needle in project.casefold() or any(
                self._needle in f"{c.name} {familiar(c.config.image)}".casefold()
                for c in model.members(project))
        name = str(model.data(index, Qt.ItemDataRole.DisplayRole) or "")
        image = str(model.data(index, ContainerModel.ImageRole) or "")
        return any(self._needle in text.casefold() for text in (name, image, project))
