"""The right-hand side for one container: header and tabs.

Tabs are registered by key (``logs``, ``ports``, ``volumes``, ``settings``,
``inspect``); later tabs (terminal, stats, learning view, files) plug in with
:meth:`DetailsView.add_tab` and get ``set_container`` calls like the others.
One tab can be shown beside the others, under them (:meth:`DetailsView.show_beside`):
the first run ends on What Is This? with the container's logs below it. (Under,
not next to: two views side by side would not fit a small screen's width.)
The container's inspect document, which fills the Ports, Volumes and Inspect tabs,
is asked for when one of them shows: selecting a running container at launch would
otherwise start the helper (its networks' endpoints) beside the first paint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.containers.actions import ContainerActions
from app.desktop.containers.header import ContainerHeader
from app.desktop.logs.view import LogView
from app.desktop.widgets.confirm import ask
from app.desktop.widgets.deferredtab import DeferredTab
from engine import Container

if TYPE_CHECKING:
    from app.desktop.inspect.portstab import PortsView
    from app.desktop.inspect.view import InspectView
    from app.desktop.inspect.volumestab import VolumesView
    from app.desktop.settings.view import SettingsView

__all__ = ["ContainerTab", "DetailsView"]

#: The tabs the inspect document fills.
INSPECTED_TABS = ("ports", "volumes", "inspect")


class ContainerTab(Protocol):
    """What a plug-in tab offers: it is told which container is shown."""

    def set_container(self, container: Container | None) -> None: ...


class DetailsView(QWidget):
    inspected = Signal(dict)  # the shown container's inspect document, when it arrives
    failed = Signal(str)  # the Ports or Volumes tab opened nothing: a sentence for the user

    def __init__(self, bridge: Bridge, actions: ContainerActions,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Container details")
        self.bridge = bridge
        self.container: Container | None = None
        self.header = ContainerHeader(actions, self)
        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Container tabs")
        self.tabs.setDocumentMode(True)
        self.logs = LogView(bridge.run_in_thread, self)
        self.logs.delete_requested.connect(self.ask_clear_logs)
        self.question: QMessageBox | None = None
        # The other tabs' views are made when each first shows (widgets/deferredtab.py).
        self.ports_tab = DeferredTab(_make_ports, self)
        self.volumes_tab = DeferredTab(_make_volumes, self)
        for tab in (self.ports_tab, self.volumes_tab):
            tab.created.connect(lambda view: view.failed.connect(self.failed))
        self.settings_tab = DeferredTab(_make_settings, self)  # ~20 ms
        self.inspect_tab = DeferredTab(_make_inspect, self)
        self._tabs: dict[str, QWidget] = {}
        self._plugins: dict[str, ContainerTab] = {}
        for key, widget, title in (("logs", self.logs, "&Logs"),
                                   ("ports", self.ports_tab, "&Ports"),
                                   ("volumes", self.volumes_tab, "&Volumes"),
                                   ("settings", self.settings_tab, "&Settings"),
                                   ("inspect", self.inspect_tab, "&Inspect")):
            self._tabs[key] = widget
            self.tabs.addTab(widget, title)
        self.beside = QWidget(self)
        self.beside.setAccessibleName("Beside the tabs")
        self.beside_title = QLabel(self.beside)
        back = QToolButton(self.beside)
        back.setText("Back to the Tabs")
        back.setToolTip("Put this view back among the tabs")
        back.clicked.connect(self.end_beside)
        top = QHBoxLayout()
        top.setContentsMargins(8, 4, 8, 0)
        top.addWidget(self.beside_title, 1)
        top.addWidget(back)
        self._beside_layout = QVBoxLayout(self.beside)
        self._beside_layout.setContentsMargins(0, 0, 0, 0)
        self._beside_layout.addLayout(top)
        self.beside.hide()
        self._beside: tuple[str, int, str] | None = None  # key, index, title
        self.split = QSplitter(Qt.Orientation.Vertical, self)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.tabs)
        self.split.addWidget(self.beside)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.split, 1)
        self._log_for = ""
        self._inspect_timer = QTimer(self)
        self._inspect_timer.setSingleShot(True)
        self._inspect_timer.setInterval(150)
        self._inspect_timer.timeout.connect(self._load_inspect)
        self._inspect_stale = False  # the shown container's document is yet to be asked for
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self._log_retry = QTimer(self)
        self._log_retry.setSingleShot(True)
        self._log_retry.setInterval(300)
        self._log_retry.timeout.connect(self._open_log)

    @property
    def settings(self) -> SettingsView:
        """The Settings tab's view, made now if it was not yet."""
        return cast("SettingsView", self.settings_tab.view())

    @property
    def ports(self) -> PortsView:
        return cast("PortsView", self.ports_tab.view())

    @property
    def volumes(self) -> VolumesView:
        return cast("VolumesView", self.volumes_tab.view())

    @property
    def inspect(self) -> InspectView:
        return cast("InspectView", self.inspect_tab.view())

    # -- tabs -----------------------------------------------------------------------

    def add_tab(self, key: str, widget: QWidget, title: str, index: int = -1) -> None:
        """Add a tab; if ``widget`` has ``set_container`` it follows the selection."""
        self._tabs[key] = widget
        if hasattr(widget, "set_container"):
            self._plugins[key] = widget
            widget.set_container(self.container)
        if index < 0:
            self.tabs.addTab(widget, title)
        else:
            self.tabs.insertTab(index, widget, title)

    def has_tab(self, key: str) -> bool:
        return key in self._tabs

    def show_tab(self, key: str) -> bool:
        widget = self._tabs.get(key)
        if widget is None:
            return False
        if self.beside_key() != key:  # beside the tabs it is shown already
            self.tabs.setCurrentWidget(widget)
        return True

    def show_beside(self, key: str, current: str) -> bool:
        """Tab ``key`` beside the tabs, tab ``current`` shown: two views at once."""
        widget = self._tabs.get(key)
        if widget is None or key == current:
            return False
        if self.beside_key() != key:
            self.end_beside()
            index = self.tabs.indexOf(widget)
            title = self.tabs.tabText(index)
            self.tabs.removeTab(index)
            self._beside = (key, index, title)
            self.beside_title.setText(f"<b>{title.replace('&', '')}</b>")
            self._beside_layout.addWidget(widget, 1)
            widget.show()
            self.beside.show()
            self.split.setSizes([3 * self.height() // 5, 2 * self.height() // 5])
        return self.show_tab(current)

    def beside_key(self) -> str:
        return self._beside[0] if self._beside else ""

    def end_beside(self) -> None:
        """The view beside goes back among the tabs, where it was."""
        if self._beside is None:
            return
        key, index, title = self._beside
        self._beside = None
        self.tabs.insertTab(index, self._tabs[key], title)
        self.beside.hide()

    def tab_keys(self) -> list[str]:
        return [key for i in range(self.tabs.count()) for key, w in self._tabs.items()
                if w is self.tabs.widget(i)]

    def current_tab(self) -> str:
        widget = self.tabs.currentWidget()
        return next((key for key, w in self._tabs.items() if w is widget), "")

    # -- the container ------------------------------------------------------------------

    def set_container(self, container: Container | None) -> None:
        previous = self.container
        self.container = container
        self.header.set_container(container)
        self.settings_tab.set_container(container)
        for tab in self._plugins.values():
            tab.set_container(container)
        if container is None:
            self._log_for = ""
            self.logs.close_log()
            self._clear_inspected()
            return
        changed = previous is None or previous.id != container.id
        if changed:
            self._clear_inspected()
            self._log_for = container.id
            self.logs.close_log()
            self._open_log()
            self._load_inspect()
        else:
            if previous is not None and previous.state != container.state:
                self.logs.set_live(container.state.status.is_active)
                if not self.logs.is_open():
                    self._log_retry.start()
            self._inspect_timer.start()

    def _open_log(self) -> None:
        container = self.container
        if container is None:
            return
        wanted = container.id

        def opened(path: Any) -> None:
            if self.container is None or self.container.id != wanted:
                return
            self.logs.open(path, live=self.container.state.status.is_active)
            if not self.logs.is_open() and self.container.state.status.is_active:
                self._log_retry.start()  # started but not written yet

        self.bridge.log_path(wanted, opened, self.logs.show_placeholder)

    def ask_clear_logs(self) -> None:
        """Delete the shown container's log, once the user said yes."""
        container = self.container
        if container is None:
            return
        self.question = ask(self, "Delete the log?",
                            f"Delete every line {container.name} has written to its log?",
                            "Delete Log", lambda: self.clear_logs(container.id),
                            informative="They are gone for good; what it writes next "
                                        "starts the log again.")

    def clear_logs(self, container_id: str) -> None:
        def cleared(_none: None) -> None:
            if self.container is not None and self.container.id == container_id:
                self.logs.close_log()
                self._open_log()

        self.bridge.clear_logs(container_id, cleared)

    def _clear_inspected(self) -> None:
        """The tabs the inspect document fills show nothing (those made)."""
        if self.inspect_tab.made():
            self.inspect.clear()
        if self.ports_tab.made():
            self.ports.set_ports([])
        if self.volumes_tab.made():
            self.volumes.set_mounts([])

    def _on_tabs_current_changed(self, _index: int) -> None:
        if self._inspect_stale:
            self._load_inspect()

    def _load_inspect(self) -> None:
        container = self.container
        if container is None:
            return
        self._inspect_stale = self.current_tab() not in INSPECTED_TABS
        if self._inspect_stale:
            return  # asked for when one of them shows
        wanted = container.id

        def loaded(doc: dict[str, Any]) -> None:
            from app.desktop.inspect import data as inspectdata

            if self.container is None or self.container.id != wanted:
                return
            self.inspect.set_document(doc)
            self.ports.set_ports(inspectdata.ports(doc))
            self.volumes.set_mounts(inspectdata.mounts(doc))
            self.inspected.emit(doc)

        def failed(message: str) -> None:
            if self.container is not None and self.container.id == wanted:
                self.inspect.set_document({"error": message})

        self.bridge.inspect(wanted, loaded, failed)


def _make_settings(parent: QWidget) -> QWidget:
    from app.desktop.settings.view import SettingsView

    return SettingsView(parent)


def _make_ports(parent: QWidget) -> QWidget:
    from app.desktop.inspect.portstab import PortsView

    return PortsView(parent)


def _make_volumes(parent: QWidget) -> QWidget:
    from app.desktop.inspect.volumestab import VolumesView

    return VolumesView(parent)


def _make_inspect(parent: QWidget) -> QWidget:
    from app.desktop.inspect.view import InspectView

    return InspectView(parent)
