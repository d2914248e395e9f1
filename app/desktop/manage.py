"""Plugs the pages for everything else Skiff has into the main window.

Images, Volumes, Networks, Disk usage and the network map sit next to the
container details in the window's page stack; a Go menu and a row of buttons
above the pages reach each one (Alt+1 … Alt+6), and every action a page takes
is recorded as its ``skiff`` command for Show Commands. Like plugins.py, this
talks to the window only through its public parts. Each page, and its modules, is
made the first time it is wanted: none of them is on a launch's way to its first
paint (~40 ms of imports and building with all five).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar, QWidget

from app.desktop.firstrun import FirstRun

if TYPE_CHECKING:
    from app.desktop.disk.page import DiskPage
    from app.desktop.frame import Frame
    from app.desktop.images.page import ImagesPage
    from app.desktop.networks.mappage import MapPage
    from app.desktop.networks.page import NetworksPage
    from app.desktop.plugins import Plugins
    from app.desktop.volumes.page import VolumesPage

__all__ = ["Manage", "install"]


class Manage(QObject):
    def __init__(self, window: Frame, plugins: Plugins) -> None:
        super().__init__(window)
        self.window = window
        self.plugins = plugins
        self.pages: dict[str, QWidget] = {}  # those made so far
        self.go_actions: dict[str, QAction] = {}
        self._add_navigation()
        window.sidebar.view.clicked.connect(lambda _index: self.show("containers"))
        self.first_run = FirstRun(window)

    # -- the pages, each made when first wanted ---------------------------------------------

    @property
    def images(self) -> ImagesPage:
        return self.page("images")

    @property
    def volumes(self) -> VolumesPage:
        return self.page("volumes")

    @property
    def networks(self) -> NetworksPage:
        return self.page("networks")

    @property
    def disk(self) -> DiskPage:
        return self.page("disk")

    @property
    def map(self) -> MapPage:
        return self.page("map")

    def page(self, key: str) -> Any:
        """The page ``key`` (images, volumes, networks, disk, map), made if need be."""
        page = self.pages.get(key)
        if page is None:
            window = self.window
            page = self.pages[key] = self._make(key)
            window.pages.addWidget(page)
            page.command.connect(self.plugins.commands.record)  # type: ignore[attr-defined]
            page.message.connect(  # type: ignore[attr-defined]
                lambda text: window.statusBar().showMessage(text, 8000))
        return page

    def _make(self, key: str) -> QWidget:
        bridge, stack = self.window.bridge, self.window.pages
        if key == "images":
            from app.desktop.images.page import ImagesPage

            return ImagesPage(bridge, stack)
        if key == "volumes":
            from app.desktop.volumes.page import VolumesPage

            return VolumesPage(bridge, stack)
        if key == "networks":
            from app.desktop.networks.page import NetworksPage

            networks = NetworksPage(bridge, stack)  # the containers listed before it was made:
            networks.containers = sorted(e.name for e in self.window.containers.entries()
                                         if e.container is not None)
            return networks
        if key == "disk":
            from app.desktop.disk.page import DiskPage

            disk = DiskPage(bridge, stack)
            disk.reclaim_requested.connect(self.reclaim)
            return disk
        if key == "map":
            from app.desktop.networks.mappage import MapPage

            network_map = MapPage(bridge, stack)
            network_map.container_clicked.connect(self._on_map_container_clicked)
            return network_map
        raise KeyError(key)

    # -- navigation ----------------------------------------------------------------------------

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
        page = self.page(key)
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
