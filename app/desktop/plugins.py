"""Plugs the views beyond Kitematic into the main window.

The Terminal, Stats, Files and "What is this?" tabs; the exit reason in the
header (containers/header.py) and the sidebar rows (containers/delegate.py); the
desktop notification when a container started here dies; and the "show
commands" bar that prints the ``skiff`` command for each action the user
takes; the setting that serves the Docker API while the window is open
(serving/). The window calls :func:`install` once; everything here talks to the
window through its public parts (bridge, actions, details, menus) and its
signals, so the window's own code needs no knowledge of these features.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from app.desktop.containers.exitnotifier import ExitNotifier
from app.desktop.serving.toggle import ServeToggle
from app.desktop.stats.feed import StatsFeed
from app.desktop.utils.commandlog import CommandLog
from app.desktop.widgets.commandbar import CommandBar
from app.desktop.widgets.deferredtab import DeferredTab
from engine import Container, ContainerConfig, run_command, verb_command

if TYPE_CHECKING:
    from app.desktop.containers.createjob import CreateJob
    from app.desktop.files.view import FilesView
    from app.desktop.frame import Frame
    from app.desktop.learn.view import LearnView
    from app.desktop.settings.view import SettingsView
    from app.desktop.stats.view import StatsView
    from app.desktop.terminal.view import TerminalView

__all__ = ["Plugins", "install"]

#: key, title, shortcut, where in the tab bar (after which existing tab)
TABS = (("terminal", "&Terminal", "Ctrl+6", "logs"),
        ("stats", "St&ats", "Ctrl+7", "terminal"),
        ("files", "&Files", "Ctrl+8", "stats"),
        ("learn", "&What Is This?", "Ctrl+9", ""))
SHOW_COMMANDS_KEY = "learn/show_commands"


class Plugins(QObject):
    def __init__(self, window: Frame) -> None:
        super().__init__(window)
        self.window = window
        bridge = window.bridge
        self._qs = QSettings(str(window.settings.path), QSettings.Format.IniFormat)
        shown = str(self._qs.value(SHOW_COMMANDS_KEY, "false")).lower() in ("true", "1")
        self.commands = CommandLog(self, enabled=shown)
        self.commands.enabled_changed.connect(self._on_commands_enabled_changed)
        self.feed = StatsFeed(bridge, self)
        # The tabs' views are made when each first shows (widgets/deferredtab.py).
        self.terminal_tab = DeferredTab(self._make_terminal, window.details)
        self.stats_tab = DeferredTab(self._make_stats, window.details)
        self.stats_tab.container_set.connect(self.feed.follow)  # shown or not: its history
        self.files_tab = DeferredTab(self._make_files, window.details)  # made when shown
        self.learn_tab = DeferredTab(self._make_learn, window.details)  # made when shown
        self.command_bar = CommandBar(self.commands, window)
        self.notifier = ExitNotifier(window.messages.show_error, window.windowIcon(),
                                     parent=self)
        self._removing: dict[str, str] = {}
        self.serving = ServeToggle(window)  # File ▸ Serve the Docker API While Open
        self._add_tabs()
        self._add_menu()
        self._connect()

    # -- construction ------------------------------------------------------------------

    def _add_tabs(self) -> None:
        details = self.window.details
        widgets = {"terminal": self.terminal_tab, "stats": self.stats_tab,
                   "files": self.files_tab, "learn": self.learn_tab}
        for key, title, _shortcut, after in TABS:
            keys = details.tab_keys()
            index = keys.index(after) + 1 if after in keys else -1
            details.add_tab(key, widgets[key], title, index)
        central = self.window.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None:
            layout.addWidget(self.command_bar)

    @property
    def learn(self) -> LearnView:
        """The What Is This? tab's view (~40 ms of imports and building: made when the
        tab first shows, or now)."""
        return cast("LearnView", self.learn_tab.view())

    def _make_learn(self, parent: QWidget) -> LearnView:
        from app.desktop.learn.view import LearnView

        view = LearnView(self.window.bridge, self.commands, parent)
        self._to_status_bar(view)
        return view

    @property
    def terminal(self) -> TerminalView:
        """The Terminal tab's view (made when the tab first shows, or now)."""
        return cast("TerminalView", self.terminal_tab.view())

    def _make_terminal(self, parent: QWidget) -> TerminalView:
        from app.desktop.terminal.view import TerminalView

        view = TerminalView(self.window.bridge, parent)
        self._to_status_bar(view)
        view.command.connect(self.commands.record)
        return view

    @property
    def stats(self) -> StatsView:
        """The Stats tab's view (made when the tab first shows, or now; the feed follows
        the selected container meanwhile)."""
        return cast("StatsView", self.stats_tab.view())

    def _make_stats(self, parent: QWidget) -> StatsView:
        from app.desktop.stats.view import StatsView

        view = StatsView(self.window.bridge, self.feed, parent)
        self._to_status_bar(view)
        return view

    def _to_status_bar(self, view: QWidget) -> None:
        status = self.window.statusBar()
        view.message.connect(  # type: ignore[attr-defined]
            lambda text: status.showMessage(text, 8000))

    @property
    def files(self) -> FilesView:
        """The Files tab's view (made when the tab first shows, or now)."""
        return cast("FilesView", self.files_tab.view())

    def _make_files(self, parent: QWidget) -> FilesView:
        from app.desktop.files.view import FilesView

        view = FilesView(self.window.bridge, parent)
        self._to_status_bar(view)
        view.command.connect(self.commands.record)
        return view

    def _view_menu(self) -> QMenu | None:
        for menu in self.window.menuBar().findChildren(QMenu):
            if menu.title().replace("&", "") == "View":
                return menu
        return None

    def _add_menu(self) -> None:
        menu = self._view_menu()
        self.tab_actions: dict[str, QAction] = {}
        for key, title, shortcut, _after in TABS:
            action = QAction(title.replace("&", ""), self.window)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _c=False, k=key: self.window.show_tab(k))
            self.window.addAction(action)
            if menu is not None:
                menu.addAction(action)
            self.tab_actions[key] = action
        self.show_commands = QAction("Show &Commands", self.window)
        self.show_commands.setCheckable(True)
        self.show_commands.setChecked(self.commands.enabled)
        self.show_commands.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.show_commands.setStatusTip("Show the skiff command for each thing done in the "
                                        "window")
        self.show_commands.toggled.connect(self.commands.set_enabled)
        self.window.addAction(self.show_commands)
        if menu is not None:
            menu.addSeparator()
            menu.addAction(self.show_commands)

    def _connect(self) -> None:
        window = self.window
        bridge = window.bridge
        a = window.container_actions
        for action, verb in ((a.start, "start"), (a.stop, "stop"), (a.restart, "restart"),
                             (a.pause, "pause"), (a.unpause, "unpause")):
            action.triggered.connect(lambda _c=False, v=verb: self._on_verb(v))
        a.remove.triggered.connect(self._on_remove_asked)
        a.exec.triggered.connect(lambda: self.terminal.ensure_session())
        bridge.container_removed.connect(self._on_bridge_container_removed)
        bridge.containers_changed.connect(self.notifier.observe)
        bridge.containers_listed.connect(self.notifier.observe)
        bridge.job_started.connect(self._on_bridge_job_started)
        window.details.settings_tab.created.connect(self._on_settings_created)
        window.closed.connect(self._on_window_closed)

    # -- what the user did -----------------------------------------------------------------

    def _on_verb(self, verb: str) -> None:
        container = self.window.current()
        if container is None:
            return
        self.commands.record(verb_command(verb, container.name))
        if verb in ("start", "restart", "unpause"):
            self.notifier.started_here(container.id)

    def _on_remove_asked(self) -> None:
        container = self.window.current()
        if container is not None:
            # Shown once the user confirmed and it went (see _on_bridge_container_removed).
            extra = ("-f",) if container.state.status.is_active else ()
            self._removing[container.id] = verb_command("rm", container.name, *extra)

    def _on_bridge_container_removed(self, container_id: str) -> None:
        command = self._removing.pop(container_id, "")
        if command:
            self.commands.record(command)
        self.notifier.forget(container_id)
        if self.terminal_tab.made():
            self.terminal.forget(container_id)

    def _on_bridge_job_started(self, job: CreateJob) -> None:
        config = ContainerConfig(image=job.ref, image_id="", cmd=job.cmd)
        self.commands.record(run_command(config, job.name))
        job.finished.connect(lambda container: self._on_job_finished(container))

    def _on_job_finished(self, container: object) -> None:
        if isinstance(container, Container):
            self.notifier.started_here(container.id)

    def _on_settings_created(self, settings: SettingsView) -> None:
        settings.save_requested.connect(self._on_settings_save_requested)
        settings.rename_requested.connect(self._on_settings_rename_requested)

    def _on_settings_save_requested(self, container: Container, config: ContainerConfig,
                                    name: str) -> None:
        extra = ("-f",) if container.state.status.is_active else ()
        self.commands.record(f"{verb_command('rm', container.name, *extra)} && "
                             f"{run_command(config, name or container.name)}")

    def _on_settings_rename_requested(self, container: Container, name: str) -> None:
        self.commands.record(shlex.join(["skiff", "rename", container.name, name]))

    def _on_commands_enabled_changed(self, enabled: bool) -> None:
        self._qs.setValue(SHOW_COMMANDS_KEY, enabled)
        if hasattr(self, "show_commands"):
            self.show_commands.setChecked(enabled)

    def _on_window_closed(self) -> None:
        self.serving.server.set_enabled(False)
        self.feed.stop()
        if self.terminal_tab.made():
            self.terminal.close_all()
        self._qs.sync()


def install(window: Frame) -> Plugins:
    """Add the tabs, menus, command bar and notifier to ``window``."""
    return Plugins(window)
