"""A strip at the bottom of the window: "$ skiff stop web", with a Copy button.

Shown while "show commands" is on; each action the user takes replaces the
line, so clicking teaches the command.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from app.desktop.utils.commandlog import CommandLog

__all__ = ["CommandBar"]


class CommandBar(QFrame):
    def __init__(self, log: CommandLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandBar")
        self.setAccessibleName("Command for the last action")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.log = log
        self._command = ""
        caption = QLabel("In a terminal:", self)
        caption.setAccessibleName("In a terminal")
        self.line = QLabel(self)
        self.line.setAccessibleName("Command line")
        self.line.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.line.setTextFormat(Qt.TextFormat.PlainText)
        self.copy = QToolButton(self)
        self.copy.setText("Copy")
        self.copy.setAccessibleName("Copy the command")
        self.copy.clicked.connect(self.copy_line)
        self.hide_button = QToolButton(self)
        self.hide_button.setText("Hide")
        self.hide_button.setAccessibleName("Stop showing commands")
        self.hide_button.setToolTip("Stop showing the skiff command for each action "
                                    "(View → Show Commands)")
        self.hide_button.clicked.connect(lambda: log.set_enabled(False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(caption)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.copy)
        layout.addWidget(self.hide_button)
        log.recorded.connect(self._on_log_recorded)
        log.enabled_changed.connect(self._on_log_enabled_changed)
        self._on_log_recorded(log.latest())
        self._on_log_enabled_changed(log.enabled)

    def text(self) -> str:
        """The command shown ("" before the first action)."""
        return self._command

    def copy_line(self) -> None:
        if self.text():
            QGuiApplication.clipboard().setText(self.text())

    def _on_log_recorded(self, command: str) -> None:
        self._command = command
        self.line.setText(f"$ {command}" if command else
                          "Click something: its skiff command appears here.")
        self.copy.setEnabled(bool(command))

    def _on_log_enabled_changed(self, enabled: bool) -> None:
        self.setVisible(enabled)
