"""Where the image browser looks for images, and what for: this computer, Docker
Hub, or a private registry's catalog, with the search text each keeps.

The row's widgets (source, Add Registry…, search box) and the remote results
model live here; the browser shows the results and says the ``notice``s.
Docker Hub is searched on Enter or a pause in typing; a registry's catalog is
read once and filtered here; the local list is filtered by the browser
(``filter_changed``).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.desktop.bridge import Bridge
from app.desktop.images import verbs
from app.desktop.images.registrydialog import RegistryDialog
from app.desktop.widgets.rowtable import Column, RowTable
from engine import SearchResult

__all__ = ["HUB", "LOCAL", "RESULT_COLUMNS", "ImageFinder"]

LOCAL = "local"
HUB = "hub"

#: the remote results (SearchResult rows); a registry's catalog fills only the name
RESULT_COLUMNS = (
    Column("Name", lambda r: r.name),
    Column("Description", lambda r: r.description, tooltip=lambda r: r.description),
    Column("Stars", lambda r: str(r.stars) if r.stars else ""),
    Column("Official", lambda r: "Official" if r.official else ""),
)


class ImageFinder(QWidget):
    """``registries_changed`` reports the user's registries (the window stores them)."""

    registries_changed = Signal(list)
    source_changed = Signal(str)  # the source's key: LOCAL, HUB or registry:<address>
    filter_changed = Signal(str)  # the local list's filter text
    notice = Signal(str, bool)  # a message to show (error: True), "" to hide it

    def __init__(self, bridge: Bridge, registries: list[str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.results = RowTable(RESULT_COLUMNS, self)
        self.registries: list[str] = list(registries or [])
        self._catalogs: dict[str, list[str]] = {}
        self._queries: dict[str, str] = {}  # each source keeps its own search text
        self._shown_source = LOCAL

        self.source = QComboBox(self)
        self.source.setAccessibleName("Where to look for images")
        self.add_registry = QPushButton("Add Registry…", self)
        self.add_registry.setAccessibleName("Add a private registry")
        self.add_registry.clicked.connect(self.ask_registry)
        self.query = QLineEdit(self)
        self.query.setAccessibleName("Search images")
        self.query.setClearButtonEnabled(True)
        label = QLabel("&Source:", self)
        label.setBuddy(self.source)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.source)
        layout.addWidget(self.add_registry)
        layout.addWidget(self.query, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(400)
        self._search_timer.timeout.connect(self.run_search)
        self.query.textChanged.connect(self._on_query_changed)
        self.query.returnPressed.connect(self.run_search)
        self.source.currentIndexChanged.connect(self._on_source_changed)
        self._fill_sources()
        self._on_source_changed()

    def _fill_sources(self) -> None:
        current = self.source_key()
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("This computer", LOCAL)
        self.source.addItem("Docker Hub", HUB)
        for registry in self.registries:
            self.source.addItem(registry, f"registry:{registry}")
        found = self.source.findData(current) if current else 0
        self.source.setCurrentIndex(max(0, found))
        self.source.blockSignals(False)

    def source_key(self) -> str:
        return str(self.source.currentData() or "")

    def set_source(self, key: str) -> None:
        index = self.source.findData(key)
        if index >= 0:
            self.source.setCurrentIndex(index)

    def add_registry_source(self, registry: str) -> None:
        if registry not in self.registries:
            self.registries.append(registry)
            self.registries_changed.emit(list(self.registries))
            self._fill_sources()
        self.set_source(f"registry:{registry}")

    def ask_registry(self) -> RegistryDialog:
        dialog = RegistryDialog(self)

        def chosen(address: str, username: str, password: str) -> None:
            if not username:
                self.add_registry_source(address)
                return
            self.notice.emit(f"Logging in to {address}…", False)

            def logged_in(_none: None) -> None:
                self.notice.emit("", False)
                self.add_registry_source(address)

            verbs.login(self.bridge, address, username, password, logged_in, self._error)

        dialog.chosen.connect(chosen)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        return dialog

    def _error(self, message: str) -> None:
        self.notice.emit(message, True)

    def _on_source_changed(self, _index: int = 0) -> None:
        key = self.source_key()
        # A Docker Hub search term must not silently filter the local list.
        self._queries[self._shown_source] = self.query.text()
        self._shown_source = key
        with QSignalBlocker(self.query):
            self.query.setText(self._queries.get(key, ""))
        self._search_timer.stop()
        self.notice.emit("", False)
        if key == LOCAL:
            self.query.setPlaceholderText("Filter local images")
            self.filter_changed.emit(self.query.text())
        else:
            self.results.reset_rows([])
            self.query.setPlaceholderText("Search Docker Hub (press Enter)" if key == HUB
                                          else "Filter the registry's images")
            self.run_search()
        self.source_changed.emit(key)

    def refresh(self) -> None:
        """Read the shown source again: a registry's catalog is not cached past this."""
        key = self.source_key()
        if key.startswith("registry:"):
            self._catalogs.pop(key.split(":", 1)[1], None)
        if key != LOCAL:
            self.run_search()

    def _on_query_changed(self, text: str) -> None:
        if self.source_key() == LOCAL:
            self.filter_changed.emit(text)
        else:
            self._search_timer.start()

    def run_search(self) -> None:
        self._search_timer.stop()
        key = self.source_key()
        term = self.query.text().strip()
        if key == HUB:
            if not term:
                self.results.reset_rows([])
                self.notice.emit("Type a name to search Docker Hub, such as nginx.", False)
                return
            self.notice.emit(f"Searching Docker Hub for “{term}”…", False)

            def found(results: list[SearchResult]) -> None:
                if self.source_key() != HUB or self.query.text().strip() != term:
                    return
                self.results.reset_rows(results)
                self.notice.emit("" if results else
                                 f"Docker Hub has no image named like “{term}”.", False)

            verbs.search(self.bridge, term, found, self.hub_failed)
        elif key.startswith("registry:"):
            registry = key.split(":", 1)[1]
            if registry in self._catalogs:
                self._show_catalog(registry)
                return
            self.notice.emit(f"Reading the catalog of {registry}…", False)

            def listed(names: list[str]) -> None:
                self._catalogs[registry] = list(names)
                if self.source_key() == key:
                    self._show_catalog(registry)

            verbs.catalog(self.bridge, registry, listed, self._error)

    def hub_failed(self, message: str) -> None:
        """Offline is common on a first run: name the ways that work without Docker Hub."""
        self._error(f"{message} Without Docker Hub you can import an image file "
                    "(Import from File…) or pull from a registry you can reach "
                    "(Add Registry…).")

    def _show_catalog(self, registry: str) -> None:
        term = self.query.text().strip().casefold()
        names = [n for n in self._catalogs.get(registry, []) if term in n.casefold()]
        self.results.reset_rows([SearchResult(name) for name in names])
        if names:
            self.notice.emit("", False)
        elif self._catalogs.get(registry):
            self.notice.emit(f"No image of {registry} matches “{term}”.", False)
        else:
            self.notice.emit(f"{registry} has no images yet.", False)
