"""The "+ New" page: pick an image (local, Docker Hub, or a private registry's
catalog) and a tag, then CREATE: the container is pulled, created and started
with a generated name while its progress shows here and in the sidebar.

Also imports images from files and removes local ones (refused while in use,
naming the containers that use it).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.build.dialog import BuildDialog
from app.desktop.containers.createjob import CreateJob, create_container
from app.desktop.images import verbs
from app.desktop.images.finder import HUB, LOCAL, ImageFinder
from app.desktop.images.model import ImageModel, ImageRow
from app.desktop.images.pullprogress import PullProgress
from app.desktop.images.registrydialog import RegistryDialog
from app.desktop.widgets.confirm import ask
from app.desktop.widgets.elidedlabel import ElidedLabel
from app.desktop.widgets.rowtable import RowTable
from engine import Image

__all__ = ["HUB", "LOCAL", "ImageBrowser"]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class ImageBrowser(QWidget):
    """``registries_changed`` reports the user's registries (the window stores them)."""

    registries_changed = Signal(list)
    job_created = Signal(object)  # CreateJob
    closed = Signal()
    notice_changed = Signal(str)  # the message under the search row ("" when hidden)

    def __init__(self, bridge: Bridge, images: ImageModel, parent: QWidget | None = None,
                 registries: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageBrowser")
        self.setAccessibleName("Image browser")
        self.bridge = bridge
        self.images = images
        self.finder = ImageFinder(bridge, registries, self)
        self.finder.registries_changed.connect(self.registries_changed)
        self.finder.notice.connect(self._on_finder_notice)
        self.source = self.finder.source
        self.query = self.finder.query
        self.results = self.finder.results
        self._kept_selection = ""  # across a reset of the local list
        self._names: set[str] = set()
        self._tags_for = ""

        title = QLabel("New container", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        title.setAccessibleName("New container")
        self.back = QPushButton("Close", self)
        self.back.setAccessibleName("Close the image browser")
        self.back.setToolTip("Back to the selected container (Esc)")
        self.back.setShortcut("Esc")
        self.back.clicked.connect(self.closed.emit)

        self.import_button = QPushButton("Import from File…", self)
        self.import_button.setAccessibleName("Import an image from a file")
        self.import_button.setToolTip("Load a `docker save` or OCI archive (.tar)")
        self.import_button.clicked.connect(self.ask_import)
        self.build_button = QPushButton("Build Image…", self)
        self.build_button.setAccessibleName("Build an image from a Dockerfile")
        self.build_button.clicked.connect(self.ask_build)

        self.local_proxy = QSortFilterProxyModel(self)
        self.local_proxy.setSourceModel(images)
        self.local_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.local_proxy.setFilterKeyColumn(0)
        self.local_proxy.setSortRole(ImageModel.SortRole)
        self.local_view = self._table(self.local_proxy, "Local images")
        self.local_view.setSortingEnabled(True)
        self.local_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.remote_view = self._table(self.results, "Search results")
        self.remote_view.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch)
        self.lists = QStackedWidget(self)
        self.lists.addWidget(self.local_view)
        self.lists.addWidget(self.remote_view)
        self.notice = QLabel(self)
        self.notice.setWordWrap(True)
        self.notice.setAccessibleName("Image browser message")
        self.notice.hide()

        self.chosen = ElidedLabel("Pick an image above.", self)
        self.chosen.setAccessibleName("Chosen image")
        font = self.chosen.font()
        font.setBold(True)
        self.chosen.setFont(font)
        self.tag = QComboBox(self)
        self.tag.setEditable(True)
        self.tag.setAccessibleName("Tag")
        self.tag.setMinimumWidth(100)
        self.create_button = QPushButton("Create", self)
        self.create_button.setAccessibleName("Create a container from the chosen image")
        self.create_button.setToolTip("Download the image if needed, make a container and start it "
                               "(Ctrl+Return)")
        self.create_button.setShortcut("Ctrl+Return")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create_selected)
        self.command = QLineEdit(self)
        self.command.setPlaceholderText("the image's command")
        self.command.setAccessibleName("Command to run")
        self.command.setToolTip("What the container runs; leave empty for the image's own "
                                "command. Change it later under Settings.")
        self.remove_button = QPushButton("Remove Image…", self)
        self.remove_button.setAccessibleName("Remove the chosen image")
        self.remove_button.clicked.connect(self.remove_selected)

        self.jobs_box = QVBoxLayout()
        self.panels: dict[str, PullProgress] = {}

        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(self.back)
        search = QHBoxLayout()
        search.addWidget(self.finder, 1)
        search.addWidget(self.import_button)
        search.addWidget(self.build_button)
        choose = QHBoxLayout()
        choose.addWidget(self.chosen, 1)
        choose.addWidget(self._label("&Tag:", self.tag))
        choose.addWidget(self.tag)
        choose.addWidget(self._label("Co&mmand:", self.command))
        choose.addWidget(self.command, 2)
        choose.addWidget(self.remove_button)
        choose.addWidget(self.create_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(head)
        layout.addLayout(search)
        layout.addWidget(self.notice)
        layout.addWidget(self.lists, 1)
        layout.addLayout(choose)
        layout.addLayout(self.jobs_box)

        self.finder.source_changed.connect(self._on_finder_source_changed)
        self.finder.filter_changed.connect(self.local_proxy.setFilterFixedString)
        self.local_view.selectionModel().currentRowChanged.connect(self._on_selection_changed)
        self.remote_view.selectionModel().currentRowChanged.connect(self._on_selection_changed)
        self.local_view.doubleClicked.connect(lambda _i: self.create_selected())
        self.remote_view.doubleClicked.connect(lambda _i: self.create_selected())
        images.modelAboutToBeReset.connect(self._on_images_about_to_be_reset)
        images.modelReset.connect(self._on_images_reset)
        self._on_finder_source_changed(self.source_key())

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def _table(self, model: QSortFilterProxyModel | RowTable, name: str) -> QTableView:
        view = QTableView(self)
        view.setModel(model)
        view.setAccessibleName(name)
        view.verticalHeader().hide()
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return view

    # -- sources (images/finder.py) ----------------------------------------------------

    @property
    def registries(self) -> list[str]:
        return self.finder.registries

    def source_key(self) -> str:
        return self.finder.source_key()

    def set_source(self, key: str) -> None:
        self.finder.set_source(key)

    def add_registry_source(self, registry: str) -> None:
        self.finder.add_registry_source(registry)

    def ask_registry(self) -> RegistryDialog:
        return self.finder.ask_registry()

    def refresh(self) -> None:
        """Read the shown source again: a registry's catalog is not cached past this."""
        self.finder.refresh()

    def _on_finder_source_changed(self, key: str) -> None:
        self.tag.clear()
        self._tags_for = ""
        if key == LOCAL:
            self.lists.setCurrentWidget(self.local_view)
        else:
            self.lists.setCurrentWidget(self.remote_view)
            for column in (1, 2, 3):  # a registry's catalog has names only
                self.remote_view.setColumnHidden(column, key != HUB)
        self.remove_button.setVisible(key == LOCAL)
        self._on_selection_changed()

    def _on_finder_notice(self, text: str, error: bool) -> None:
        if not text:
            self.hide_notice()
        elif error:
            self.show_error(text)
        else:
            self.show_notice(text)

    # -- choosing -------------------------------------------------------------------

    def _on_images_about_to_be_reset(self) -> None:
        row = self.selected_local()
        self._kept_selection = row.ref if row is not None else ""

    def _on_images_reset(self) -> None:
        """A new listing (an event, a refresh) keeps the image the user had chosen."""
        if self._kept_selection:
            self.select_local(self._kept_selection)
        self._on_selection_changed()

    def selected_local(self) -> ImageRow | None:
        index = self.local_view.currentIndex()
        if not index.isValid():
            return None
        source = self.local_proxy.mapToSource(index)
        return self.images.row(source.row()) if source.isValid() else None

    def selected_remote(self) -> str:
        index = self.remote_view.currentIndex()
        return str(index.data(RowTable.RowRole).name) if index.isValid() else ""

    def select_local(self, ref: str) -> bool:
        rows = [self.local_proxy.index(row, 0) for row in range(self.local_proxy.rowCount())]
        for index in rows:
            if index.data(ImageModel.RefRole) == ref:
                self.local_view.setCurrentIndex(index)
                return True
        for index in rows:  # an ID, or a digest reference
            image = index.data(ImageModel.ImageRole)
            if ref in (image.id, image.short_id, *image.repo_digests):
                self.local_view.setCurrentIndex(index)
                return True
        return False

    def select_remote(self, name: str) -> bool:
        for row, result in enumerate(self.results.rows()):
            if result.name == name:
                self.remote_view.setCurrentIndex(self.results.index(row, 0))
                return True
        return False

    def _on_selection_changed(self, *_args: QModelIndex) -> None:
        key = self.source_key()
        if key == LOCAL:
            row = self.selected_local()
            self.create_button.setEnabled(row is not None)
            self.remove_button.setEnabled(row is not None)
            self.tag.clear()
            if row is None:
                self.chosen.setText("Pick an image above.")
                return
            self.chosen.setText(row.repository)
            tags = self.images.tags_of(row.repository) or [row.tag]
            self.tag.addItems(tags)
            self.tag.setCurrentText(row.tag)
            return
        name = self.selected_remote()
        self.create_button.setEnabled(bool(name))
        if not name:
            self.chosen.setText("Pick an image above.")
            self.tag.clear()
            return
        self.chosen.setText(name)
        if self._tags_for != name:
            self._tags_for = name
            self.tag.clear()
            self.tag.addItem("latest")
            self.tag.setEnabled(False)

            def got_tags(found: list[str]) -> None:
                if self._tags_for != name:
                    return
                self.tag.setEnabled(True)
                self.tag.clear()
                ordered = sorted(found, key=lambda t: (t != "latest", t))
                self.tag.addItems(ordered or ["latest"])

            def failed(message: str) -> None:
                self.tag.setEnabled(True)
                self.show_error(message)

            verbs.image_tags(self.bridge, name, got_tags, failed)

    def chosen_ref(self) -> tuple[str, bool]:
        """(reference, pull): what CREATE would make, and whether it pulls first."""
        tag = self.tag.currentText().strip() or "latest"
        if self.source_key() == LOCAL:
            row = self.selected_local()
            if row is None:
                return "", False
            if row.repository == "<none>":
                return row.ref, False
            return f"{row.repository}:{tag}", False
        name = self.selected_remote()
        return (f"{name}:{tag}", True) if name else ("", True)

    def set_taken_names(self, names: set[str]) -> None:
        self._names = set(names)

    def create_selected(self) -> CreateJob | None:
        ref, pull = self.chosen_ref()
        if not ref:
            self.show_notice("Pick an image first.")
            return None
        try:
            cmd = shlex.split(self.command.text()) or None
        except ValueError as exc:
            self.show_error(f"The command cannot be read: {exc} (check the quotes).")
            return None
        job = create_container(self.bridge, ref, pull=pull, taken=self._names, cmd=cmd)
        self._names.add(job.name)
        self.command.clear()
        self.show_job(job)
        self.job_created.emit(job)
        return job

    def show_job(self, job: CreateJob) -> PullProgress:
        panel = self.panels.get(job.key)
        if panel is not None:
            return panel
        panel = PullProgress(job, self)
        self.panels[job.key] = panel
        panel.finished.connect(lambda key=job.key: self._drop_panel(key))
        self.jobs_box.addWidget(panel)
        return panel

    def _drop_panel(self, key: str) -> None:
        panel = self.panels.pop(key, None)
        if panel is not None:
            panel.hide()
            panel.deleteLater()

    # -- local images -----------------------------------------------------------------

    def remove_selected(self) -> None:
        row = self.selected_local()
        if row is None:
            return
        users = self.images.users(row.image.id)
        name = row.ref if row.repository == "<none>" else f"{row.repository}:{row.tag}"
        # A tag among others only goes away (docker's "Untagged"); the image stays for
        # its containers. The last name of an image in use cannot go.
        if users and len(row.image.repo_tags) <= 1:
            self.show_error(f"{name} cannot be removed: {_join(users)} "
                            f"{'uses' if len(users) == 1 else 'use'} it. Remove "
                            f"{'that container' if len(users) == 1 else 'those containers'}"
                            " first, then remove the image.")
            return
        ask(self, "Remove the image?", f"Remove {name} from this computer?", "Remove",
            lambda: self._remove(row), informative="You can download or import it again "
            "later.")

    def _remove(self, row: ImageRow) -> None:
        ref = row.ref
        verbs.remove_image(self.bridge, ref, lambda _lines: self.show_notice(f"Removed {ref}."))

    def ask_import(self) -> QFileDialog:
        dialog = QFileDialog(self, "Import an image archive")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.setNameFilters(["Image archives (*.tar *.tar.gz *.tgz)", "All files (*)"])
        dialog.fileSelected.connect(lambda name: self.import_file(Path(name)))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        return dialog

    def ask_build(self) -> BuildDialog:
        """The Build Image dialog (app/desktop/build/): the built image is listed here."""
        dialog = BuildDialog(self.bridge, self)
        dialog.open()
        return dialog

    def import_file(self, path: Path) -> None:
        self.show_notice(f"Importing {path.name}… (large images take a while)")

        def done(images: list[Image]) -> None:
            tags = [t for image in images for t in image.repo_tags]
            self.show_notice(f"Imported {', '.join(tags) or path.name}.")
            self.set_source(LOCAL)
            if tags:
                QTimer.singleShot(0, lambda: self.select_local(tags[0]))

        verbs.load(self.bridge, path, done, self.show_error)

    # -- messages -------------------------------------------------------------------

    def show_notice(self, text: str) -> None:
        self.notice.setStyleSheet("")
        self.notice.setText(text)
        self.notice.show()
        self.notice_changed.emit(text)

    def show_error(self, text: str) -> None:
        self.notice.setStyleSheet("QLabel { color: #d9534f; }")
        self.notice.setText(text)
        self.notice.show()
        self.notice_changed.emit(text)

    def hide_notice(self) -> None:
        self.notice.hide()
        self.notice_changed.emit("")

    def focus_search(self) -> None:
        self.query.setFocus()
