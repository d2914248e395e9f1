"""Errors shown in the window: a stack of dismissable sentences above the content."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

__all__ = ["MessageBar"]

MAX_SHOWN = 4


class _Message(QFrame):
    dismissed = Signal()

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = text
        self.setObjectName("errorMessage")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Error message")
        self.setAccessibleDescription(text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        label = QLabel(text, self)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAccessibleName("Error")
        self.label = label
        close = QToolButton(self)
        close.setText("Dismiss")
        close.setAccessibleName("Dismiss this message")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismissed.emit)
        layout.addWidget(label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.setStyleSheet("#errorMessage { background: palette(base); "
                           "border: 1px solid #d9534f; border-left: 5px solid #d9534f; "
                           "border-radius: 4px; }")


class MessageBar(QWidget):
    """``show_error(text)`` adds a message; the same text twice shows once."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Messages")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 0)
        self._layout.setSpacing(4)
        self._messages: list[_Message] = []
        self.hide()

    def show_error(self, text: str) -> None:
        for message in self._messages:
            if message.text == text:
                return
        message = _Message(text, self)
        message.dismissed.connect(lambda m=message: self._dismiss(m))
        self._messages.append(message)
        self._layout.addWidget(message)
        while len(self._messages) > MAX_SHOWN:
            self._dismiss(self._messages[0])
        self.show()
        self.changed.emit()

    def messages(self) -> list[str]:
        return [m.text for m in self._messages]

    def clear(self) -> None:
        for message in list(self._messages):
            self._dismiss(message)

    def _dismiss(self, message: _Message) -> None:
        if message in self._messages:
            self._messages.remove(message)
            message.hide()
            message.deleteLater()
        if not self._messages:
            QTimer.singleShot(0, self._hide_if_empty)
        self.changed.emit()

    def _hide_if_empty(self) -> None:
        if not self._messages:
            self.hide()
