"""Plugs the pages for everything else Skiff has into the main window.

Images, Volumes, Networks, Disk usage and the network map sit next to the
container details in the window's page stack; a Go menu and a row of buttons
above the pages reach each one (Alt+1 … Alt+6), and every action a page takes
is recorded as its ``skiff`` command for Show Commands. Like plugins.py, this
talks to the window only through its public parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar, QWidget

from app.desktop.disk.page import DiskPage
from app.desktop.firstrun import FirstRun
from app.desktop.images.page import ImagesPage
from app.desktop.networks.mappage import MapPage
from app.desktop.networks.page import NetworksPage
from app.desktop.volumes.page import VolumesPage

if TYPE_CHECKING:
    from app.desktop.frame import Frame
    from app.desktop.plugins import Plugins

__all__ = ["Manage", "install"]


class Manage(QObject):
    def __init__(self, window: Frame, plugins: Plugins) -> None:
        super().__init__(window)
        self.window = window
        bridge = window.bridge
        self.images = ImagesPage(bridge, window.pages)
        self.volumes = VolumesPage(bridge, window.pages)
        self.networks = NetworksPage(bridge, window.pages)
        self.disk = DiskPage(bridge, window.pages)
        self.disk.reclaim_requested.connect(self.reclaim)
        self.map = MapPage(bridge, window.pages)
        self.map.container_clicked.connect(self._on_map_container_clicked)
        self.pages: dict[str, QWidget] = {"images": self.images, "volumes": self.volumes,
                                          "networks": self.networks, "disk": self.disk,
                                          "map": self.map}
        for page in self.pages.values():
            window.pages.addWidget(page)
            page.command.connect(plugins.commands.record)  # type: ignore[attr-defined]
            page.message.connect(  # type: ignore[attr-defined]
                lambda text: window.statusBar().showMessage(text, 8000))
        self.go_actions: dict[str, QAction] = {}
        self._add_navigation()
        window.sidebar.view.clicked.connect(lambda _index: self.show("containers"))
        self.first_run = FirstRun(window)

    def _add_navigation(self) -> None:
        window = self.window
        menu = window.menuBar().addMenu("&Go")
        bar = QToolBar("Go", window)
        bar.setObjectName("goBar")
        bar.setMovable(False)
        window.addToolBar(bar)
        group = QActionGroup(self)
        titles = (("containers", "&Containers"), ("images", "&Images"), ("volumes", "&Volumes"),
                  ("networks", "&Networks"), ("disk", "&Disk Usage"), ("map", "Network &Map"))
        for number, (key, title) in enumerate(titles, start=1):
            # "All Volumes" in the menu, next to View → Volumes (one container's tab)
            action = QAction(f"All {title}" if key in ("images", "volumes", "networks")
                             else title, window)
            action.setIconText(title.replace("&", ""))
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Alt+{number}"))
            action.triggered.connect(lambda _c=False, k=key: self.show(k))
            group.addAction(action)
            menu.addAction(action)
            bar.addAction(action)
            window.addAction(action)
            self.go_actions[key] = action
        self.go_actions["containers"].setChecked(True)
        window.pages.currentChanged.connect(self._on_pages_current_changed)

    def show(self, key: str) -> None:
        """Show a page by key; ``containers`` is the selected container or the welcome."""
        window = self.window
        if key == "containers":
            if window.current() is not None:
                window.pages.setCurrentWidget(window.details)
            else:
                window.pages.setCurrentWidget(window.welcome)
            return
        page = self.pages[key]
        window.pages.setCurrentWidget(page)
        page.setFocus()

    def reclaim(self, key: str) -> None:
        """The Disk usage page's reclaim button: the page's prune preview, once the
        page has listed afresh (the preview is of what is there now)."""
        page = self.images if key == "images" else self.volumes

        def ask() -> None:
            page.changed.disconnect(ask)
            page.ask_prune()
            page.dialog.choose("all")

        page.changed.connect(ask)
        self.show(key)

    def _on_map_container_clicked(self, container_id: str) -> None:
        """Select it in the list; the map stays shown (a click in the list opens it)."""
        self.window.select(container_id)

    def holds_page(self) -> bool:
        """Whether a change of the sidebar's current row should leave this page shown:
        yes unless the user is in the list (a click shows the container anyway)."""
        return self.current() != "containers" and not self.window.sidebar.view.hasFocus()

    def current(self) -> str:
        widget = self.window.pages.currentWidget()
        return next((k for k, page in self.pages.items() if page is widget), "containers")

    def _on_pages_current_changed(self, _index: int) -> None:
        self.go_actions[self.current()].setChecked(True)


def install(window: Frame, plugins: Plugins) -> Manage:
    return Manage(window, plugins)
