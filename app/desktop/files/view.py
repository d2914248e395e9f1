"""The Files tab: a container's filesystem, running or stopped, without a shell in it
(and, through :meth:`FilesView.source`, a volume's: app/desktop/volumes/browse.py).

"All files" is a lazily loaded tree with sizes, owners and modes; entries the
container added or changed are coloured and marked. "Changed files" lists
what the container added, changed and deleted compared to its image (the
overlay's upper layer). A text file opens read-only; files and folders copy
out to this computer and in from it (``skiff cp`` does the same).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.files.model import CHANGE_COLOURS, CHANGE_WORDS, FileTreeModel, parse_names
from app.desktop.files.source import FileSource
from app.desktop.files.viewer import FileViewer
from app.desktop.widgets.lazytab import LazyTab
from app.desktop.widgets.rowtable import Column, RowTable
from engine import Change, Engine, FileEntry

__all__ = ["OPEN_LIMIT", "FilesView", "change_columns"]

OPEN_LIMIT = 1 << 20  # bytes shown of a file opened read-only
ALL, CHANGED = 0, 1


def change_columns() -> list[Column]:
    return [
        Column("Change", lambda c: CHANGE_WORDS.get(c.kind, c.kind),
               colour=lambda c: CHANGE_COLOURS.get(c.kind)),
        Column("Path", lambda c: c.path, tooltip=lambda c: c.path),
    ]


class FilesView(LazyTab):
    command = Signal(str)  # the skiff command for a copy
    message = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Files")
        self.bridge = bridge
        self.viewer: FileViewer | None = None  # the last file opened

        self.mode = QComboBox(self)
        self.mode.setAccessibleName("Which files")
        self.mode.addItems(["All files", "Changed files"])
        self.mode.setToolTip("Changed files: what the container added, changed or deleted "
                             "compared to its image")
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.open_button = QPushButton("Open", self)
        self.open_button.setAccessibleName("Open the file read-only")
        self.open_button.clicked.connect(self.open_selected)
        self.copy_out_button = QPushButton("Copy to Computer…", self)
        self.copy_out_button.setAccessibleName("Copy to this computer")
        self.copy_out_button.setToolTip("Copy the selected file or folder out of the container")
        self.copy_out_button.clicked.connect(self.ask_copy_out)
        self.copy_in_button = QPushButton("Copy File In…", self)
        self.copy_in_button.setAccessibleName("Copy a file into the container")
        self.copy_in_button.setToolTip("Copy a file from this computer into the selected folder")
        self.copy_in_button.clicked.connect(lambda: self.ask_copy_in(folder=False))
        self.copy_folder_in_button = QPushButton("Copy Folder In…", self)
        self.copy_folder_in_button.setAccessibleName("Copy a folder into the container")
        self.copy_folder_in_button.clicked.connect(lambda: self.ask_copy_in(folder=True))
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setAccessibleName("Refresh the files")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for widget in (self.mode, self.open_button, self.copy_out_button, self.copy_in_button,
                       self.copy_folder_in_button, self.refresh_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)

        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("About the files")

        self.model = FileTreeModel(self)
        self.model.fetch_requested.connect(self._on_model_fetch_requested)
        self.tree = QTreeView(self)
        self.tree.setAccessibleName("Container files")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        for column, width in ((1, 80), (2, 110), (3, 100), (4, 130), (5, 80)):
            self.tree.setColumnWidth(column, width)
        self.tree.doubleClicked.connect(self._on_tree_double_clicked)
        self.tree.selectionModel().currentChanged.connect(lambda *_: self._update_buttons())

        self.changes = RowTable(change_columns(), self)
        self.changes_view = QTableView(self)
        self.changes_view.setAccessibleName("Changed files")
        self.changes_view.setModel(self.changes)
        self.changes_view.verticalHeader().hide()
        self.changes_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.changes_view.horizontalHeader().setStretchLastSection(True)
        self.changes_view.setAlternatingRowColors(True)
        self.changes_view.verticalHeader().setDefaultSectionSize(
            self.fontMetrics().height() + 8)
        self.changes_view.doubleClicked.connect(self._on_changes_double_clicked)
        self.changes_view.selectionModel().currentChanged.connect(
            lambda *_: self._update_buttons())

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.changes_view)
        open_key = QShortcut(QKeySequence(Qt.Key.Key_Return), self.tree)
        open_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        open_key.activated.connect(self.open_selected)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        layout.addWidget(self.stack, 1)
        self._update_buttons()

    # -- the container -----------------------------------------------------------------------

    def forget(self) -> None:
        self.model.reset()
        self.changes.set_rows([])

    def container_set(self) -> None:
        self._update_note()
        self._update_buttons()

    def source(self) -> FileSource | None:
        """Whose files are shown: the container's."""
        container = self.container
        return FileSource(container.id, container.name) if container is not None else None

    def load(self) -> None:
        """List / again (keeping nothing), the changes, and the owners' names."""
        self.model.reset()
        self.model.fetchMore(QModelIndex())
        self._load_changes()
        self._load_names()

    def _on_model_fetch_requested(self, path: str) -> None:
        source = self.source()
        if source is None or self._stale:  # the hidden view's, after forget(): load() lists
            return
        wanted = source.key

        def done(entries: list[FileEntry]) -> None:
            if self.current_id() == wanted:
                self.model.set_children(path, entries)

        def failed(text: str) -> None:
            if self.current_id() == wanted:
                self.model.load_failed(path, text)
                self.message.emit(text)

        self.bridge.submit(f"list {source.where(path)}", lambda e: source.list(e, path), done,
                           failed)

    def _load_changes(self) -> None:
        container = self.container
        if container is None or self.current_id() != container.id:
            return
        wanted = container.id

        def done(changes: list[Change]) -> None:
            if self.current_id() != wanted:
                return
            ordered = sorted(changes, key=lambda c: c.path)
            self.changes.set_rows(ordered)
            self.model.set_changes((c.kind, c.path) for c in ordered)
            self._update_note()

        self.bridge.submit(f"compare {container.name} with its image",
                           lambda e: e.containers.changes(wanted), done, self.message.emit)

    def _load_names(self) -> None:
        container = self.container
        if container is None or self.current_id() != container.id:
            return
        wanted = container.id

        async def read(engine: Engine) -> tuple[dict[int, str], dict[int, str]]:
            names: list[dict[int, str]] = []
            for path in ("/etc/passwd", "/etc/group"):
                try:
                    data = await engine.containers.read_file(wanted, path, 1 << 16)
                    names.append(parse_names(data.decode("utf-8", "replace")))
                except Exception:  # no such file in a minimal image: numbers it is
                    names.append({})
            return names[0], names[1]

        def done(result: tuple[dict[int, str], dict[int, str]]) -> None:
            if self.current_id() == wanted:
                self.model.set_names(*result)

        self.bridge.submit("read the container's user names", read, done, lambda _m: None)

    def _on_mode_changed(self, mode: int) -> None:
        self.stack.setCurrentIndex(mode)
        self._update_note()
        self._update_buttons()

    def _update_note(self) -> None:
        container = self.container
        if container is None:
            self.note.setText("Pick a container to browse its files.")
            return
        state = "running" if container.state.status.is_active else "stopped"
        if self.mode.currentIndex() == CHANGED:
            rows = self.changes.rows()
            counts = {k: sum(1 for c in rows if c.kind == k) for k in "ACD"}
            self.note.setText(
                f"What {container.name} changed compared to its image ({counts['A']} added, "
                f"{counts['C']} changed, {counts['D']} deleted): the content of the "
                f"container's own writable layer, as skiff diff {container.name} lists it.")
        else:
            self.note.setText(
                f"The files of {container.name} ({state}) as its processes see them. Green: "
                "added by the container; orange: changed. Double-click a file to read it.")

    # -- selection ---------------------------------------------------------------------------

    def selected_path(self) -> tuple[str, bool]:
        """(path, is a directory) of the selected entry; ("", False) when none."""
        if self.mode.currentIndex() == CHANGED:
            index = self.changes_view.currentIndex()
            if not index.isValid():
                return "", False
            change = self.changes.row(index.row())
            return change.path, False
        index = self.tree.currentIndex()
        if not index.isValid():
            return "", False
        entry = index.siblingAtColumn(0).data(FileTreeModel.EntryRole)
        return (entry.path, entry.is_dir) if isinstance(entry, FileEntry) else ("", False)

    def select(self, path: str) -> bool:
        index = self.model.index_for(path)
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        return True

    def target_directory(self) -> str:
        """Where a copy in lands: the selected folder, or the selected file's folder."""
        path, is_dir = self.selected_path()
        if not path:
            return "/"
        return path if is_dir else posixpath.dirname(path) or "/"

    def _update_buttons(self) -> None:
        has = bool(self.current_id())
        path, is_dir = self.selected_path()
        self.open_button.setEnabled(has and bool(path) and not is_dir)
        self.copy_out_button.setEnabled(has and bool(path))
        self.copy_in_button.setEnabled(has)
        self.copy_folder_in_button.setEnabled(has)
        self.refresh_button.setEnabled(has)

    def _on_tree_double_clicked(self, index: QModelIndex) -> None:
        entry = index.siblingAtColumn(0).data(FileTreeModel.EntryRole)
        if isinstance(entry, FileEntry) and not entry.is_dir:
            self.open_file(entry.path)

    def _on_changes_double_clicked(self, index: QModelIndex) -> None:
        change = self.changes.row(index.row())
        if change.kind != "D":
            self.open_file(change.path)

    # -- open, copy ---------------------------------------------------------------------------

    def open_selected(self) -> None:
        path, is_dir = self.selected_path()
        if path and not is_dir:
            self.open_file(path)

    def open_file(self, path: str) -> Any:
        source = self.source()
        if source is None:
            return None

        async def read(engine: Engine) -> tuple[bytes, int]:
            entry = await source.stat(engine, path)
            data = await source.read(engine, path, OPEN_LIMIT)
            return data, entry.size

        def done(result: tuple[bytes, int]) -> None:
            data, size = result
            viewer = FileViewer(f"{source.where(path)} (read-only)", data, size, OPEN_LIMIT,
                                self)
            viewer.show()
            self.viewer = viewer

        return self.bridge.submit(f"open {source.where(path)}", read, done)

    def ask_copy_out(self) -> None:
        path, is_dir = self.selected_path()
        if not path or not self.current_id():
            return
        base = posixpath.basename(path.rstrip("/")) or "root"
        if is_dir:
            dialog = QFileDialog(self, f"Copy {path} into which folder?", str(Path.home()))
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
            dialog.fileSelected.connect(lambda chosen: self.copy_out(path, Path(chosen)))
        else:
            dialog = QFileDialog(self, f"Save {path} as", str(Path.home() / base))
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.fileSelected.connect(lambda chosen: self.copy_out(path, Path(chosen)))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()

    def ask_copy_in(self, folder: bool) -> None:
        if not self.current_id():
            return
        target = self.target_directory()
        dialog = QFileDialog(self, f"Copy a {'folder' if folder else 'file'} into {target}",
                             str(Path.home()))
        if folder:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda chosen: self.copy_in(Path(chosen), target))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()

    def copy_out(self, path: str, destination: Path) -> Any:
        source = self.source()
        if source is None:
            return None
        if command := source.cp_out(path, destination):
            self.command.emit(command)

        def done(_result: object) -> None:
            self.message.emit(f"Copied {source.where(path)} to {destination}.")

        return self.bridge.submit(f"copy {source.where(path)} out",
                                  lambda e: source.copy_from(e, path, destination), done)

    def copy_in(self, local: Path, directory: str) -> Any:
        source = self.source()
        if source is None:
            return None
        wanted = source.key
        if command := source.cp_in(local, directory):
            self.command.emit(command)

        def done(_result: object) -> None:
            self.message.emit(f"Copied {local} into {source.where(directory)}.")
            if self.current_id() == wanted:
                self.model.reload(directory)
                self._load_changes()

        return self.bridge.submit(f"copy {local.name} into {source.where(directory)}",
                                  lambda e: source.copy_to(e, local, directory), done)
