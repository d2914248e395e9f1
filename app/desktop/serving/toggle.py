"""The setting "Serve the Docker API While Open" (File menu), remembered between runs.

Checked, the window serves the Docker Engine API on the user's socket
(``$XDG_RUNTIME_DIR/skiff/docker.sock``) for as long as it is open; the status
bar shows where, with the ``DOCKER_HOST`` to export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMenu

from app.desktop.serving.server import ApiServer

if TYPE_CHECKING:
    from app.desktop.frame import Frame

__all__ = ["SERVE_KEY", "ServeToggle"]

SERVE_KEY = "api/serve_while_open"


class ServeToggle(QObject):
    def __init__(self, window: Frame) -> None:
        super().__init__(window)
        self.window = window
        self._qs = QSettings(str(window.settings.path), QSettings.Format.IniFormat)
        self.server = ApiServer(window.bridge, parent=self)
        self.action = QAction("Serve the Docker &API While Open", window)
        self.action.setCheckable(True)
        self.action.setStatusTip("Let docker, docker compose and docker-py use Skiff while "
                                 "this window is open")
        self.label = QLabel(window)
        self.label.setAccessibleName("Docker API")
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self._add_to_file_menu()
        self.action.toggled.connect(self._on_action_toggled)
        self.server.state_changed.connect(self._on_server_state_changed)
        self.server.failed.connect(window.messages.show_error)
        wanted = str(self._qs.value(SERVE_KEY, "false")).lower() in ("true", "1")
        self.action.setChecked(wanted)

    def _add_to_file_menu(self) -> None:
        for menu in self.window.menuBar().findChildren(QMenu):
            if menu.title().replace("&", "") == "File":
                actions = menu.actions()
                quit_action = self.window.a_quit
                if quit_action in actions:
                    menu.insertAction(quit_action, self.action)
                    menu.insertSeparator(quit_action)
                else:
                    menu.addAction(self.action)
                return
        self.window.addAction(self.action)

    def _on_action_toggled(self, checked: bool) -> None:
        self._qs.setValue(SERVE_KEY, checked)
        self._qs.sync()
        self.server.set_enabled(checked)

    def _on_server_state_changed(self, state: str) -> None:
        where = self.server.where
        if state == "serving" and where is not None:
            self.label.setText("Docker API")
            self.label.setToolTip(f"Serving the Docker API on {where}\n"
                                  f"export DOCKER_HOST={where}")
            self.label.show()
            self.window.statusBar().showMessage(
                f"Serving the Docker API: export DOCKER_HOST={where}", 15000)
        elif state == "off":
            self.label.hide()

    async def close(self) -> None:
        await self.server.stop()
