"""The main window's frame: sidebar | details or image browser, menus, messages, status.

It wires the bridge's signals to the models and the widgets' requests to the
bridge; it holds no engine logic of its own. The plug-ins (plugins.py, manage.py,
firstrun.py, projects/, serving/) are given the frame; mainwindow.py installs them,
so they and the window do not import each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.containers.actions import ContainerActions
from app.desktop.containers.details import DetailsView
from app.desktop.containers.model import ContainerModel
from app.desktop.containers.recreate import apply_settings
from app.desktop.containers.sidebar import Sidebar
from app.desktop.images.model import ImageModel
from app.desktop.images.welcome import FIRST_RUN, NO_CONTAINERS, PICK, WelcomeView
from app.desktop.utils.prefs import AppSettings
from app.desktop.widgets.confirm import ask, tell
from app.desktop.widgets.messagebar import MessageBar
from app.desktop.widgets.shortcuts import shortcut_lines
from engine import Container, ContainerConfig, Image

if TYPE_CHECKING:
    from app.desktop.containers.createjob import CreateJob
    from app.desktop.images.browser import ImageBrowser
    from app.desktop.settings.view import SettingsView

__all__ = ["Frame"]

TAB_KEYS = ("logs", "ports", "volumes", "settings", "inspect")


class Frame(QMainWindow):
    closed = Signal()

    def __init__(self, bridge: Bridge, settings: AppSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("Skiff")
        self.setAccessibleName("Skiff")
        self.bridge = bridge
        self.settings = settings
        self.containers = ContainerModel(self)
        self.images = ImageModel(self)
        self.container_actions = ContainerActions(self)

        self.messages = MessageBar(self)
        self.sidebar = Sidebar(self.containers, self)
        self.details = DetailsView(bridge, self.container_actions, self)
        self._browser: ImageBrowser | None = None  # made when first wanted (browser)
        self.welcome = WelcomeView(self)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.details)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 820])
        self.splitter.setChildrenCollapsible(False)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.messages)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.status_label = QLabel(self)
        self.status_label.setAccessibleName("Status")
        self.statusBar().addWidget(self.status_label, 1)

        self._build_menus()
        self.sidebar.set_context_actions(self.container_actions.all())
        self._connect()
        self._want_selected = settings.selected
        self._listed = False

    # -- construction -------------------------------------------------------------------

    @property
    def browser(self) -> ImageBrowser:
        """The "+ New" page, made the first time it is wanted (~25 ms of imports and
        building that a launch need not pay before its first paint)."""
        browser = self._browser
        if browser is None:
            from app.desktop.images.browser import ImageBrowser

            browser = self._browser = ImageBrowser(self.bridge, self.images, self,
                                                   self.settings.registries)
            self.pages.addWidget(browser)
            browser.closed.connect(self._on_browser_closed)
            browser.registries_changed.connect(self._on_browser_registries_changed)
        return browser

    def _browser_shown(self) -> bool:
        return self._browser is not None and self.pages.currentWidget() is self._browser

    def resize_default(self) -> None:
        if self.settings.geometry is None:
            self.resize(1180, 760)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.container_actions.new)
        self.a_import = QAction("&Import Image from File…", self)
        self.a_import.setShortcut(QKeySequence("Ctrl+I"))
        self.a_import.triggered.connect(self._on_import_triggered)
        file_menu.addAction(self.a_import)
        self.a_build = QAction("&Build Image…", self)
        self.a_build.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.a_build.triggered.connect(self._on_build_triggered)
        file_menu.addAction(self.a_build)
        self.a_refresh = QAction("&Refresh", self)
        self.a_refresh.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.a_refresh.triggered.connect(self.refresh)
        file_menu.addAction(self.a_refresh)
        file_menu.addSeparator()
        self.a_quit = QAction("&Quit", self)
        self.a_quit.setShortcut(QKeySequence("Ctrl+Q"))
        self.a_quit.triggered.connect(self.close)
        file_menu.addAction(self.a_quit)

        container_menu = bar.addMenu("&Container")
        for action in self.container_actions.all():
            container_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        self.a_filter = QAction("&Find Container", self)
        self.a_filter.setShortcut(QKeySequence("Ctrl+K"))
        self.a_filter.triggered.connect(self.sidebar.focus_filter)
        view_menu.addAction(self.a_filter)
        self.a_list = QAction("Container &List", self)
        self.a_list.setShortcut(QKeySequence("Ctrl+0"))
        self.a_list.triggered.connect(lambda: self.sidebar.view.setFocus())
        view_menu.addAction(self.a_list)
        view_menu.addSeparator()
        self.tab_actions: dict[str, QAction] = {}
        for number, key in enumerate(TAB_KEYS, start=1):
            action = QAction(key.capitalize(), self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _c=False, k=key: self.show_tab(k))
            view_menu.addAction(action)
            self.addAction(action)
            self.tab_actions[key] = action

        logs_menu = bar.addMenu("&Logs")
        for action in self.details.logs.menu_actions():
            logs_menu.addAction(action)

        help_menu = bar.addMenu("&Help")
        about = QAction("&About Skiff", self)
        about.triggered.connect(lambda: tell(
            self, "About Skiff", "Skiff manages containers on this computer with its own "
            "engine. Containers keep running when this window closes."))
        help_menu.addAction(about)
        keys = QAction("&Keyboard Shortcuts", self)
        keys.setShortcut(QKeySequence("F1"))
        keys.triggered.connect(self.show_shortcuts)
        help_menu.addAction(keys)
        for action in (self.a_import, self.a_build, self.a_refresh, self.a_quit, self.a_filter,
                       self.a_list, keys):
            self.addAction(action)

    def _connect(self) -> None:
        bridge = self.bridge
        bridge.error.connect(self.messages.show_error)
        bridge.helper_unavailable.connect(self._on_bridge_helper_unavailable)
        bridge.status.connect(self._on_bridge_status)
        bridge.state_changed.connect(self._on_bridge_state_changed)
        bridge.containers_listed.connect(self._on_bridge_containers_listed)
        bridge.containers_changed.connect(self._on_bridge_containers_changed)
        bridge.container_removed.connect(self._on_bridge_container_removed)
        bridge.container_recreated.connect(self._on_bridge_container_recreated)
        bridge.images_listed.connect(self._on_bridge_images_listed)
        bridge.job_started.connect(self._on_bridge_job_started)
        self.sidebar.current_changed.connect(self._on_sidebar_current_changed)
        self.sidebar.new_requested.connect(self.show_browser)
        self.sidebar.remove_requested.connect(self.ask_remove)
        self.welcome.import_requested.connect(self._on_welcome_import_requested)
        self.welcome.registry_requested.connect(self._on_welcome_registry_requested)
        self.welcome.hub_requested.connect(self._on_welcome_hub_requested)
        self.details.settings_tab.created.connect(self._on_settings_created)
        self.details.logs.message.connect(self.statusBar().showMessage)
        self.details.failed.connect(self.messages.show_error)
        self.details.logs.timestamps.setChecked(self.settings.log_timestamps)
        self.details.tabs.currentChanged.connect(self._on_tab_changed)
        a = self.container_actions
        a.new.triggered.connect(self.show_browser)
        a.start.triggered.connect(lambda: self._act(self.bridge.start))
        a.stop.triggered.connect(lambda: self._act(self.bridge.stop))
        a.restart.triggered.connect(lambda: self._act(self.bridge.restart))
        a.pause.triggered.connect(lambda: self._act(self.bridge.pause))
        a.unpause.triggered.connect(lambda: self._act(self.bridge.unpause))
        a.remove.triggered.connect(self.ask_remove)
        a.exec.triggered.connect(self.open_terminal)

    def page_held(self) -> bool:
        """Whether a page of a plug-in keeps its place when the selected row changes."""
        return False

    def restore(self) -> None:
        """The window as it was left: size, splitter and tab (once plug-ins are in)."""
        settings = self.settings
        if settings.geometry is not None:
            self.restoreGeometry(settings.geometry)
        if settings.window_state is not None:
            self.restoreState(settings.window_state)
        if settings.splitter is not None:
            self.splitter.restoreState(settings.splitter)
        tab = settings.tab
        if tab:
            self.details.show_tab(tab)

    def save_settings(self) -> None:
        settings = self.settings
        settings.geometry = self.saveGeometry()
        settings.window_state = self.saveState()
        settings.splitter = self.splitter.saveState()
        current = self.current()
        if current is not None:
            settings.selected = (current.id, current.name)
        settings.tab = self.details.current_tab()
        settings.log_timestamps = self.details.logs.timestamps.isChecked()
        if self._browser is not None:
            settings.registries = self._browser.registries
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.details.logs.close_log()
        super().closeEvent(event)
        self.closed.emit()

    # -- selection ------------------------------------------------------------------

    def current(self) -> Container | None:
        key = self.sidebar.current_key()
        entry = self.containers.entry(key) if key else None
        return entry.container if entry is not None else None

    def select(self, key: str) -> bool:
        return self.sidebar.select(key)

    def _on_sidebar_current_changed(self, key: str) -> None:
        entry = self.containers.entry(key) if key else None
        if entry is not None and entry.job is not None:
            self.show_browser()
            self.browser.show_job(entry.job)
            self._show_container(None)
            return
        container = entry.container if entry is not None else None
        self._show_container(container)
        if self.page_held():
            return  # a row chosen by the list itself (one removed, one added): stay
        if container is not None:
            self.pages.setCurrentWidget(self.details)
        elif self.pages.currentWidget() is self.details:
            self._show_welcome()

    def _show_container(self, container: Container | None) -> None:
        self.container_actions.terminal_available = self.details.has_tab("terminal")
        self.container_actions.update_for(container)
        self.details.set_container(container)

    def _show_welcome(self) -> None:
        if self.bridge.state == "failed":
            self.welcome.set_text(self.bridge.failure)
        elif self.containers.rowCount() == 0 and self.images.rowCount() == 0:
            self.welcome.set_text(FIRST_RUN, first_run=True)
        elif self.containers.rowCount() == 0:
            self.welcome.set_text(NO_CONTAINERS)
        else:
            self.welcome.set_text(PICK)
        self.pages.setCurrentWidget(self.welcome)

    def _on_welcome_import_requested(self) -> None:
        self.show_browser()
        self.browser.ask_import()

    def _on_welcome_registry_requested(self) -> None:
        self.show_browser()
        self.browser.ask_registry()

    def _on_welcome_hub_requested(self) -> None:
        from app.desktop.images.finder import HUB

        self.show_browser()
        self.browser.set_source(HUB)
        self.browser.focus_search()

    def refresh(self) -> None:
        """F5: the containers and images again, and the open image source (a
        registry's catalog, a search) read anew."""
        self.bridge.refresh()
        if self._browser_shown():
            self.browser.refresh()

    def show_browser(self) -> None:
        self.browser.set_taken_names(self.containers.names() | self.bridge.taken_names())
        self.pages.setCurrentWidget(self.browser)
        self.browser.focus_search()

    def _on_browser_closed(self) -> None:
        if self.current() is not None:
            self.pages.setCurrentWidget(self.details)
        else:
            self._show_welcome()

    def show_tab(self, key: str) -> None:
        if self.current() is not None:
            self.pages.setCurrentWidget(self.details)
            self.details.show_tab(key)

    def _on_settings_created(self, settings: SettingsView) -> None:
        settings.save_requested.connect(self._on_settings_save_requested)
        settings.rename_requested.connect(self._on_settings_rename_requested)
        settings.networks_wanted.connect(self._on_settings_networks_wanted)

    def _on_settings_networks_wanted(self) -> None:
        self.bridge.submit("list networks", lambda engine: engine.networks.list(),
                           on_done=lambda networks: self.details.settings.set_networks(
                               [n.name for n in networks]))

    def _on_tab_changed(self, _index: int) -> None:
        self.settings.tab = self.details.current_tab()

    def open_terminal(self) -> None:
        if self.current() is not None:
            self.pages.setCurrentWidget(self.details)  # from the image browser too
        if not self.details.show_tab("terminal"):
            self.messages.show_error("The terminal is not part of this version of Skiff. "
                                     "Use `skiff exec -it NAME sh` in a terminal meanwhile.")

    # -- actions --------------------------------------------------------------------

    def _act(self, verb: object) -> None:
        container = self.current()
        if container is not None and callable(verb):
            verb(container)

    def ask_remove(self) -> None:
        container = self.current()
        if container is None or not self.container_actions.remove.isEnabled():
            return
        running = container.state.status.is_active
        ask(self, "Remove the container?", f"Remove {container.name}?", "Remove",
            lambda: self._remove(container, running),
            informative=("It is running and will be stopped first. " if running else "")
            + "Its files (except those in volumes) and its log are deleted.")

    def _remove(self, container: Container, force: bool) -> None:
        self.bridge.remove(container, force=force)

    def show_shortcuts(self) -> None:
        tell(self, "Keyboard shortcuts", "\n".join(shortcut_lines(self.menuBar())))

    def _on_build_triggered(self) -> None:
        self.show_browser()
        self.browser.ask_build()

    def _on_import_triggered(self) -> None:
        self.show_browser()
        self.browser.ask_import()

    def _on_settings_save_requested(self, container: Container, config: ContainerConfig,
                                    name: str) -> None:
        settings = self.details.settings
        settings.show_progress(f"Recreating {container.name}…")
        apply_settings(self.bridge, container, config, name, on_progress=settings.show_progress,
                       on_error=settings.end_progress)

    def _on_settings_rename_requested(self, container: Container, name: str) -> None:
        self.bridge.rename(container, name)

    def _on_browser_registries_changed(self, registries: list[str]) -> None:
        self.settings.registries = registries

    # -- bridge ---------------------------------------------------------------------

    def _on_bridge_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _on_bridge_helper_unavailable(self, text: str) -> None:
        """Containers cannot run at all until this is fixed: a dialog, not just a line.
        One at a time: a refresh that fails five ways still asks once."""
        shown = self.findChild(QMessageBox, "helper-unavailable")
        if shown is not None and shown.isVisible():
            return
        box = tell(self, "Skiff cannot run containers", text, QMessageBox.Icon.Warning)
        box.setObjectName("helper-unavailable")

    def _on_bridge_state_changed(self, state: str) -> None:
        if state == "failed":
            self.welcome.set_text(self.bridge.failure)
            self.pages.setCurrentWidget(self.welcome)
        elif state == "ready" and self.pages.currentWidget() is self.welcome:
            self._show_welcome()

    def _refresh_image_users(self) -> None:
        self.images.set_containers(e.container for e in self.containers.entries()
                                   if e.container is not None)

    def _on_bridge_containers_listed(self, containers: list[Container]) -> None:
        self.containers.sync(containers)
        self._after_containers_changed()
        if not self._listed:
            self._listed = True
            wanted_id, wanted_name = self._want_selected
            chosen = next((c.id for c in containers if c.id == wanted_id), None) or \
                next((c.id for c in containers if c.name == wanted_name), None)
            if chosen is None and self.sidebar.proxy.rowCount():
                chosen = str(self.sidebar.proxy.index(0, 0).data(ContainerModel.KeyRole))
            if chosen:
                self.select(chosen)
            elif self.pages.currentWidget() is self.welcome:
                self._show_welcome()

    def _on_bridge_containers_changed(self, containers: list[Container]) -> None:
        self.containers.update(containers)
        self._after_containers_changed()

    def _hand_over(self, job: CreateJob) -> None:
        """Once the engine lists the job's container, its row takes the job's place
        (selected if the job was), so one container never shows as two rows."""
        made = job.container
        if made is None:
            return
        if self.sidebar.current_key() in (job.key, ""):
            self.select(made.id)
        if self.containers.entry(made.id) is not None:
            self.containers.remove(job.key)

    def _after_containers_changed(self) -> None:
        for entry in self.containers.entries():
            if entry.job is not None:
                self._hand_over(entry.job)
        self._refresh_image_users()
        current = self.current()
        shown = self.details.container
        if current is not None and shown is not None and current.id == shown.id \
                and current != shown:
            self._show_container(current)
        elif current is not None and shown is None and not self._browser_shown():
            self._show_container(current)
            self.pages.setCurrentWidget(self.details)
        elif current is None and not self.sidebar.current_key() and \
                self.pages.currentWidget() is self.welcome:
            self._show_welcome()

    def _on_bridge_container_removed(self, container_id: str) -> None:
        was_current = self.sidebar.current_key() == container_id
        self.containers.remove(container_id)
        self._refresh_image_users()
        if was_current:
            QTimer.singleShot(0, self._after_current_removed)

    def _after_current_removed(self) -> None:
        key = self.sidebar.current_key()
        if not key or self.containers.entry(key) is None:
            self._show_container(None)
            if self.pages.currentWidget() is self.details:
                self._show_welcome()

    def _on_bridge_container_recreated(self, _old_id: str, new: Container) -> None:
        self.containers.update([new])
        self.select(new.id)
        self.details.settings.end_progress()
        self.details.settings.reload()

    def _on_bridge_images_listed(self, images: list[Image]) -> None:
        self.images.set_images(images)
        if self.pages.currentWidget() is self.welcome and self.bridge.state == "ready":
            self._show_welcome()  # a first image changes what the page offers

    def _on_bridge_job_started(self, job: CreateJob) -> None:
        self.containers.add_job(job)
        self.browser.show_job(job)

        job.phase_changed.connect(lambda _phase: self._hand_over(job))
        self.select(job.key)  # the new container is the one the user wants to see next
