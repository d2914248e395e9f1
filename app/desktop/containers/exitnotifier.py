"""A desktop notification when a container the user started here dies unexpectedly.

"Started here": started, restarted, resumed or created from this window.
"Unexpectedly": it stopped without being asked to and not with success (an
error code, a signal, the OOM killer). The notification goes, in order of
preference, to the desktop's notification portal over D-Bus, to a tray
icon's balloon, or, when neither exists, to a message in the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from app.desktop.containers.exitreason import died_unexpectedly
from engine import Container, Status, exit_reason

__all__ = ["PORTAL", "ExitNotifier"]

log = logging.getLogger(__name__)

PORTAL = ("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop",
          "org.freedesktop.portal.Notification")


class ExitNotifier(QObject):
    notified = Signal(str, str, str)  # how (portal | tray | window), title, text

    def __init__(self, fallback: Callable[[str], None], icon: QIcon | None = None,
                 bus: object | None = None, parent: QObject | None = None) -> None:
        """``fallback`` shows a sentence in the window; ``bus`` a QDBusConnection
        (default: the session bus, when there is one)."""
        super().__init__(parent)
        self._fallback = fallback
        self._icon = icon or QIcon()
        self._bus = bus
        self._tray: QSystemTrayIcon | None = None
        self._started: set[str] = set()
        self._status: dict[str, Status] = {}
        self._sent = 0

    def started_here(self, container_id: str) -> None:
        """The user started it from the window: watch it."""
        self._started.add(container_id)

    def forget(self, container_id: str) -> None:
        self._started.discard(container_id)
        self._status.pop(container_id, None)

    def observe(self, containers: list[Container]) -> None:
        """Containers as they are now (from the bridge's signals)."""
        for container in containers:
            before = self._status.get(container.id)
            now = container.state.status
            self._status[container.id] = now
            if container.id not in self._started or before is None:
                continue
            if before.is_active and not now.is_active and died_unexpectedly(container.state):
                self.notify(container)

    def notify(self, container: Container) -> str:
        title = f"{container.name} stopped unexpectedly"
        text = exit_reason(container)
        for how, send in (("portal", self._send_portal), ("tray", self._send_tray)):
            try:
                if send(title, text):
                    self.notified.emit(how, title, text)
                    return how
            except Exception:  # a broken desktop service must not break the window
                log.warning("sending a notification by %s failed", how, exc_info=True)
        self._fallback(f"{title}: {text}")
        self.notified.emit("window", title, text)
        return "window"

    # -- ways to tell --------------------------------------------------------------------

    def _connection(self) -> object | None:
        if self._bus is not None:
            return self._bus
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return None
        return QDBusConnection.sessionBus()

    def _send_portal(self, title: str, text: str) -> bool:
        from PySide6.QtDBus import QDBus, QDBusConnection, QDBusMessage

        bus = self._connection()
        if not isinstance(bus, QDBusConnection) or not bus.isConnected():
            return False
        service, path, interface = PORTAL
        registered = bus.interface().isServiceRegistered(service)
        if not registered.isValid() or not registered.value():
            return False
        self._sent += 1
        message = QDBusMessage.createMethodCall(service, path, interface, "AddNotification")
        message.setArguments([f"skiff-exit-{self._sent}",
                              {"title": title, "body": text, "priority": "high"}])
        bus.call(message, QDBus.CallMode.NoBlock)
        return True

    def _send_tray(self, title: str, text: str) -> bool:
        if not QSystemTrayIcon.isSystemTrayAvailable() or \
                not QSystemTrayIcon.supportsMessages():
            return False
        if self._tray is None:
            self._tray = QSystemTrayIcon(self._icon, self)
            self._tray.setToolTip("Skiff")
        self._tray.show()
        self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10000)
        return True
