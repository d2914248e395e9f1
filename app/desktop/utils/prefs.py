"""What the window remembers between runs: size, splitter, selection, registries.

Stored with QSettings as an INI file in the user's XDG config directory
(``~/.config/skiff/desktop.conf``), next to the CLI's settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from engine import user_config_dir

__all__ = ["AppSettings"]


class AppSettings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path(user_config_dir(), "desktop.conf")
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._qs.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _list(self, key: str) -> list[str]:
        value: Any = self._qs.value(key, [])
        if isinstance(value, str):
            return [value] if value else []
        return [str(v) for v in value or []]

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._qs.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._qs.setValue("window/state", value)

    @property
    def splitter(self) -> QByteArray | None:
        return self._bytes("window/splitter")

    @splitter.setter
    def splitter(self, value: QByteArray) -> None:
        self._qs.setValue("window/splitter", value)

    @property
    def selected(self) -> tuple[str, str]:
        """(container ID, name) of the last selected container."""
        return (str(self._qs.value("selection/id", "") or ""),
                str(self._qs.value("selection/name", "") or ""))

    @selected.setter
    def selected(self, value: tuple[str, str]) -> None:
        self._qs.setValue("selection/id", value[0])
        self._qs.setValue("selection/name", value[1])

    @property
    def tab(self) -> str:
        return str(self._qs.value("selection/tab", "logs") or "logs")

    @tab.setter
    def tab(self, value: str) -> None:
        self._qs.setValue("selection/tab", value)

    @property
    def registries(self) -> list[str]:
        return self._list("images/registries")

    @registries.setter
    def registries(self, value: list[str]) -> None:
        self._qs.setValue("images/registries", list(value))

    @property
    def log_timestamps(self) -> bool:
        return str(self._qs.value("logs/timestamps", "true")).lower() in ("true", "1")

    @log_timestamps.setter
    def log_timestamps(self, value: bool) -> None:
        self._qs.setValue("logs/timestamps", value)

    def sync(self) -> None:
        self._qs.sync()
