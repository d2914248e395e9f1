"""The header's line that says why the container is in its state, in words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from app.desktop.containers.exitreason import died_unexpectedly, full_reason
from app.desktop.utils import theme
from engine import Container

__all__ = ["ReasonLabel"]


class ReasonLabel(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exitReason")
        self.setAccessibleName("Why it stopped")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def set_container(self, container: Container | None) -> None:
        text = full_reason(container) if container is not None else ""
        self.setText(text)
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))
        if container is None or not text:
            return
        state = container.state
        kind = "oom" if state.oom_killed else "failed" if died_unexpectedly(state) else ""
        if kind:
            colour, _ = theme.badge_colours(kind, self.palette())
            self.setStyleSheet(f"QLabel#exitReason {{ color: {colour.name()}; }}")
        else:
            self.setStyleSheet("")
