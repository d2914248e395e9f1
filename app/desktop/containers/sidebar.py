"""The list of containers on the left: filter box, "+ New", rows with status badges, and
compose projects as collapsible groups (the arrow, a double click, or Left and Right)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.containers.delegate import INDENT, PAD, ContainerDelegate
from app.desktop.containers.model import ContainerModel, ContainerSortModel

__all__ = ["Sidebar"]


class Sidebar(QWidget):
    """Emits ``current_changed`` with the selected row's key (container ID or job key)."""

    current_changed = Signal(str)
    new_requested = Signal()
    remove_requested = Signal()

    def __init__(self, model: ContainerModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAccessibleName("Containers")
        self.model = model
        self.proxy = ContainerSortModel(self)
        self.proxy.setSourceModel(model)

        title = QLabel("Containers", self)
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        title.setAccessibleName("Containers")
        self.new_button = QPushButton("+ New", self)
        self.new_button.setAccessibleName("New container")
        self.new_button.setToolTip("Pick an image and make a container from it (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested.emit)

        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by name or image (Ctrl+K)")
        self.filter.setAccessibleName("Filter containers")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_filter_text)

        self.view = QListView(self)
        # A viewport made here: the first time Qt hands PySide6 a widget it did not
        # make (viewport() below), PySide6 finds its type by creating the Python class
        # of every QtWidgets widget, most of which the window never uses: a launch
        # with 200 containers ran ~20 M instructions (~5 ms) less before its first paint.
        self.view.setViewport(QWidget(self.view))
        self.view.setAccessibleName("Container list")
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(ContainerDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)

        self.empty = QLabel("No containers yet.\nPress + New to make one from an image.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName("No containers")

        # Delete removes the selected container, but only while the list has focus.
        self.view.installEventFilter(self)
        self.view.viewport().installEventFilter(self)  # a click on a project's arrow
        self.view.doubleClicked.connect(self._on_view_double_clicked)

        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        layout.addLayout(top)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty, 1)
        self._context_actions: list[QAction] = []
        self._project_actions: list[QAction] = []
        self._update_empty()
        self.model.rowsInserted.connect(self._update_empty)
        self.model.rowsRemoved.connect(self._update_empty)
        self.model.modelReset.connect(self._update_empty)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.KeyPress and \
                isinstance(event, QKeyEvent):
            if event.matches(QKeySequence.StandardKey.Delete):
                self.remove_requested.emit()
                return True
            project = self._header_project(self.view.currentIndex())
            if project and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
                self.set_collapsed(project, event.key() == Qt.Key.Key_Left)
                return True
        if watched is self.view.viewport() and isinstance(event, QMouseEvent) and \
                event.type() == QEvent.Type.MouseButtonPress:
            index = self.view.indexAt(event.position().toPoint())
            project = self._header_project(index)
            if project and event.position().x() - self.view.visualRect(index).left() \
                    < INDENT + PAD:
                self.set_collapsed(project, not self.proxy.is_collapsed(project))
        return super().eventFilter(watched, event)

    @staticmethod
    def _header_project(index: QModelIndex) -> str:
        if not index.isValid() or not index.data(ContainerModel.HeaderRole):
            return ""
        return str(index.data(ContainerModel.ProjectRole) or "")

    def set_collapsed(self, project: str, collapsed: bool) -> None:
        """Hide (or show) a project's containers under its header row."""
        self.proxy.set_collapsed(project, collapsed)

    def set_project_actions(self, actions: list[QAction]) -> None:
        """What a project's header row offers in its context menu."""
        self._project_actions = actions

    def _on_view_double_clicked(self, index: QModelIndex) -> None:
        project = self._header_project(index)
        if project:
            self.set_collapsed(project, not self.proxy.is_collapsed(project))

    def set_context_actions(self, actions: list[QAction]) -> None:
        self._context_actions = actions

    def current_key(self) -> str:
        index = self.view.currentIndex()
        return str(index.data(ContainerModel.KeyRole)) if index.isValid() else ""

    def select(self, key: str) -> bool:
        row = self.model.row_of(key)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index)
        return True

    def focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def _update_empty(self) -> None:
        empty = self.model.rowCount() == 0
        self.empty.setVisible(empty)
        self.view.setVisible(not empty)

    def _on_rows_inserted(self) -> None:
        if not self.view.currentIndex().isValid() and self.proxy.rowCount() == 1:
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_changed.emit(str(current.data(ContainerModel.KeyRole))
                                  if current.isValid() else "")

    def _on_view_context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        header = bool(self._header_project(index))
        if not index.isValid() or (index.data(ContainerModel.ContainerRole) is None
                                   and not header):
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.setAccessibleName("Project actions" if header else "Container actions")
        for action in self._project_actions if header else self._context_actions:
            if action.isVisible():
                menu.addAction(action)
        menu.popup(self.view.viewport().mapToGlobal(pos))
