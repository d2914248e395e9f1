"""The ``skiff`` commands for what the user does in the window, for learning the CLI.

Every action the window takes (start, stop, remove, a new container, a shell,
a copy) is recorded here as the equivalent command line; with "show commands"
on, the command bar shows the latest one as the user clicks. The engine
writes the command lines (engine/containers/cmdline.py); this only keeps them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

__all__ = ["CommandLog"]

KEEP = 50


class CommandLog(QObject):
    recorded = Signal(str)  # a command line, as it happens
    enabled_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, enabled: bool = False) -> None:
        super().__init__(parent)
        self._enabled = enabled
        self._history: list[str] = []

    @property
    def enabled(self) -> bool:
        """Whether the window shows commands as the user clicks (they are kept anyway)."""
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        if enabled != self._enabled:
            self._enabled = enabled
            self.enabled_changed.emit(enabled)

    def record(self, command: str) -> None:
        if not command:
            return
        self._history.append(command)
        del self._history[:-KEEP]
        self.recorded.emit(command)

    def history(self) -> list[str]:
        """Oldest first."""
        return list(self._history)

    def latest(self) -> str:
        return self._history[-1] if self._history else ""
