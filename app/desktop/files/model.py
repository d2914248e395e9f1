"""A container's filesystem as a lazily loaded tree model.

Directories load when a view expands them: ``fetchMore`` asks for the listing
through ``fetch_requested(path)`` and the view's owner answers with
:meth:`FileTreeModel.set_children` (or :meth:`load_failed`) once the engine
replies, so the window never waits on a listing. Only the first answer to a
request counts: a directory is never replaced under the view's feet by a
second, late one. Entries added or changed
by the container (from the engine's diff of the overlay's upper layer) are
marked; owners show as names when the container's /etc/passwd says so.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QStyle

from engine import FileEntry, format_bytes

__all__ = ["CHANGE_COLOURS", "CHANGE_WORDS", "FileTreeModel", "parse_names"]

Index = QModelIndex | QPersistentModelIndex

CHANGE_WORDS = {"A": "Added", "C": "Changed", "D": "Deleted"}
CHANGE_COLOURS = {"A": QColor("#2e7d32"), "C": QColor("#b26a00"), "D": QColor("#c62828")}
COLUMNS = ("Name", "Size", "Owner", "Mode", "Modified", "Change")


def parse_names(text: str) -> dict[int, str]:
    """uid (or gid) → name from /etc/passwd or /etc/group text."""
    names: dict[int, str] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            names.setdefault(int(fields[2]), fields[0])
    return names


class _Node:
    __slots__ = ("children", "entry", "error", "loading", "parent", "path", "row", "stale")

    def __init__(self, path: str, entry: FileEntry | None, parent: _Node | None,
                 row: int) -> None:
        self.path = path
        self.entry = entry
        self.parent = parent
        self.row = row
        self.children: list[_Node] | None = None  # None: not loaded yet
        self.loading = False
        self.stale = False  # changed since the listing on its way was read: list again
        self.error = ""

    @property
    def is_dir(self) -> bool:
        return self.entry is None or self.entry.is_dir


class FileTreeModel(QAbstractItemModel):
    EntryRole = Qt.ItemDataRole.UserRole + 1
    PathRole = Qt.ItemDataRole.UserRole + 2
    ChangeRole = Qt.ItemDataRole.UserRole + 3

    fetch_requested = Signal(str)  # a directory's path: list it, then set_children
    loaded = Signal(str)  # a directory's listing arrived

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("/", None, None, 0)
        self._changes: dict[str, str] = {}
        self._users: dict[int, str] = {}
        self._groups: dict[int, str] = {}

    # -- changes from the owner -------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (another container)."""
        self.beginResetModel()
        self._root = _Node("/", None, None, 0)
        self._changes = {}
        self._users = {}
        self._groups = {}
        self.endResetModel()

    def _find(self, path: str) -> _Node | None:
        path = posixpath.normpath("/" + path.strip("/")) if path != "/" else "/"
        node = self._root
        if path == "/":
            return node
        for part in path.strip("/").split("/"):
            if node.children is None:
                return None
            node = next((c for c in node.children if c.entry is not None and
                         c.entry.name == part), None)  # type: ignore[assignment]
            if node is None:
                return None
        return node

    def _index_of(self, node: _Node, column: int = 0) -> QModelIndex:
        if node is self._root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def set_children(self, path: str, entries: Iterable[FileEntry]) -> None:
        node = self._find(path)
        if node is None or not node.is_dir or not node.loading:
            return  # nobody asked (anymore): an answer to a request already answered
        parent = self._index_of(node)
        listed = sorted(entries, key=lambda e: (not e.is_dir, e.name.casefold(), e.name))
        if node.children:
            self.beginRemoveRows(parent, 0, len(node.children) - 1)
            node.children = []
            self.endRemoveRows()
        node.loading = False
        node.error = ""
        if not listed:
            node.children = []
            if parent.isValid():
                self.dataChanged.emit(parent, parent)
        else:
            self.beginInsertRows(parent, 0, len(listed) - 1)
            node.children = [_Node(entry.path, entry, node, row)
                             for row, entry in enumerate(listed)]
            self.endInsertRows()
        if node.stale:  # read before a change: the next answer is the one to tell of
            self.reload(node.path)
        else:
            self.loaded.emit(node.path)

    def load_failed(self, path: str, message: str) -> None:
        node = self._find(path)
        if node is None or not node.loading:
            return
        node.loading = False
        node.stale = False
        node.error = message
        if node.children is None:
            node.children = []
        index = self._index_of(node)
        if index.isValid():
            self.dataChanged.emit(index, index.siblingAtColumn(len(COLUMNS) - 1))

    def reload(self, path: str) -> None:
        """List a directory again (after a copy into it). One being listed is listed
        again once that answer is in: it may have been read before the change."""
        node = self._find(path)
        if node is None or not node.is_dir:
            return
        if node.loading:
            node.stale = True
            return
        node.stale = False
        node.loading = True
        self.fetch_requested.emit(node.path)

    def set_changes(self, changes: Iterable[tuple[str, str]]) -> None:
        """(kind, path) pairs: A added, C changed, D deleted."""
        self._changes = {path: kind for kind, path in changes}
        self._emit_all_changed(self._root)

    def set_names(self, users: dict[int, str], groups: dict[int, str]) -> None:
        self._users, self._groups = dict(users), dict(groups)
        self._emit_all_changed(self._root)

    def _emit_all_changed(self, node: _Node) -> None:
        if not node.children:
            return
        first = self.index(0, 0, self._index_of(node))
        last = self.index(len(node.children) - 1, len(COLUMNS) - 1, self._index_of(node))
        self.dataChanged.emit(first, last)
        for child in node.children:
            self._emit_all_changed(child)

    def change_of(self, path: str) -> str:
        return self._changes.get(path, "")

    def directory_loaded(self, path: str) -> bool:
        node = self._find(path)
        return node is not None and node.children is not None and not node.loading

    def entries(self, path: str) -> list[FileEntry]:
        node = self._find(path)
        if node is None or node.children is None:
            return []
        return [c.entry for c in node.children if c.entry is not None]

    def index_for(self, path: str) -> QModelIndex:
        node = self._find(path)
        return self._index_of(node) if node is not None else QModelIndex()

    # -- the model -----------------------------------------------------------------------------

    def _node(self, index: Index) -> _Node:
        if not index.isValid():
            return self._root
        node = index.internalPointer()
        assert isinstance(node, _Node)
        return node

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        node = self._node(parent)
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        if node.children is None or row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self._node(index)
        parent = node.parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        node = self._node(parent)
        return len(node.children) if node.children is not None else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return False
        node = self._node(parent)
        if not node.is_dir:
            return False
        return node.children is None or len(node.children) > 0

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() and parent.column() != 0:
            return False
        node = self._node(parent)
        return node.is_dir and node.children is None and not node.loading

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent):
            return
        node = self._node(parent)
        node.loading = True
        self.fetch_requested.emit(node.path)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._node(index).is_dir:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        entry = node.entry
        if entry is None:
            return None
        column = index.column()
        change = self._changes.get(entry.path, "")
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(entry, column, change, node)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = entry.path
            if entry.link_target:
                tip += f" → {entry.link_target}"
            if change:
                tip += f"\n{CHANGE_WORDS[change]} by the container (not in its image)" \
                    if change == "A" else f"\n{CHANGE_WORDS[change]} by the container"
            if node.error:
                tip += f"\n{node.error}"
            return tip
        if role == Qt.ItemDataRole.ForegroundRole and change and column in (0, 5):
            return CHANGE_COLOURS[change]
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            if not isinstance(QApplication.instance(), QApplication):
                return None  # no widgets (a test of the model alone): no icons
            style = QApplication.style()
            pixmap = QStyle.StandardPixmap.SP_DirIcon if entry.is_dir else \
                QStyle.StandardPixmap.SP_FileLinkIcon if entry.type == "symlink" else \
                QStyle.StandardPixmap.SP_FileIcon
            return style.standardIcon(pixmap)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == self.EntryRole:
            return entry
        if role == self.PathRole:
            return entry.path
        if role == self.ChangeRole:
            return change
        return None

    def _text(self, entry: FileEntry, column: int, change: str, node: _Node) -> str:
        if column == 0:
            name = entry.name
            if entry.link_target:
                name += f" → {entry.link_target}"
            if node.error:
                name += " (could not list)"
            return name
        if column == 1:
            return "" if entry.is_dir else format_bytes(entry.size)
        if column == 2:
            user = self._users.get(entry.uid, str(entry.uid))
            group = self._groups.get(entry.gid, str(entry.gid))
            return f"{user}:{group}"
        if column == 3:
            return entry.mode_string
        if column == 4:
            seconds = entry.mtime_ns / 1e9
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))
        if column == 5:
            return CHANGE_WORDS.get(change, "")
        return ""
