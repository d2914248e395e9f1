"""The window's container actions: one QAction each, with its shortcut, shared by
the menus, the sidebar's context menu and the details header, and enabled
according to the selected container's state.

Every action stays visible, so the Container menu always lists Start and Stop
(one of them disabled) and every shortcut works; only the header swaps its
Start/Stop and Pause/Resume buttons (``in_header``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

from engine import Container, Status

__all__ = ["ContainerActions"]


class ContainerActions(QObject):
    header_changed = Signal()  # which of the swapped pairs the header shows changed

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._header: dict[str, bool] = {}
        style = parent.style()

        def make(text: str, shortcut: str, tip: str,
                 icon: QStyle.StandardPixmap | None = None) -> QAction:
            action = QAction(text, parent)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            native = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({native})" if shortcut else tip)
            action.setStatusTip(tip)
            if icon is not None:
                action.setIcon(style.standardIcon(icon))
            parent.addAction(action)
            return action

        sp = QStyle.StandardPixmap
        self.new = make("&New Container…", "Ctrl+N", "Pick an image and make a container from it",
                        sp.SP_FileDialogNewFolder)
        self.start = make("&Start", "Ctrl+Shift+S", "Start the container", sp.SP_MediaPlay)
        self.stop = make("S&top", "Ctrl+Shift+X", "Stop the container", sp.SP_MediaStop)
        self.restart = make("&Restart", "Ctrl+Shift+R", "Restart the container",
                            sp.SP_BrowserReload)
        self.pause = make("&Pause", "Ctrl+Shift+P", "Freeze every process of the container",
                          sp.SP_MediaPause)
        self.unpause = make("Res&ume", "Ctrl+Shift+U", "Let a paused container run again",
                            sp.SP_MediaPlay)
        self.exec = make("E&xec", "Ctrl+Shift+T",
                         "Open a shell inside the running container (Terminal tab)",
                         sp.SP_ComputerIcon)
        self.remove = make("Re&move…", "Ctrl+Del", "Delete the container",
                           sp.SP_TrashIcon)
        self.terminal_available = False
        self.update_for(None)

    def all(self) -> list[QAction]:
        return [self.start, self.stop, self.restart, self.pause, self.unpause, self.exec,
                self.remove]

    def update_for(self, container: Container | None) -> None:
        """Enable what the container's state allows; show Start or Stop, Pause or Resume."""
        status = container.state.status if container is not None else None
        self.start.setEnabled(status is not None and status.can_start())
        self.stop.setEnabled(status is not None and status.can_stop())
        self.restart.setEnabled(status is not None and status not in (Status.REMOVING,
                                                                      Status.PAUSED))
        self.pause.setEnabled(status is not None and status.can_pause())
        self.unpause.setEnabled(status is not None and status.can_unpause())
        self.exec.setEnabled(status is not None and status.can_exec()
                             and self.terminal_available)
        self.remove.setEnabled(status is not None and status is not Status.REMOVING)
        active = status is not None and status.is_active
        header = {"start": not active, "stop": active, "pause": status is not Status.PAUSED,
                  "unpause": status is Status.PAUSED}
        if header != self._header:
            self._header = header
            self.header_changed.emit()

    def in_header(self, key: str) -> bool:
        """Whether the details header shows this action's button now."""
        return self._header.get(key, True)
