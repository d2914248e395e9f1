"""A file of a container shown read-only: text in a fixed-width font, or why not."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from engine import format_bytes

__all__ = ["FileViewer", "describe_content"]


def describe_content(data: bytes, size: int, limit: int) -> tuple[str, str]:
    """(text to show, a note about it): binary files and cut-off files say so."""
    if b"\0" in data[:8192]:
        return "", (f"This looks like a binary file ({format_bytes(size)}): it is not shown. "
                    "Copy it out to open it with a program that understands it.")
    text = data.decode("utf-8", errors="replace")
    note = f"{format_bytes(size)}, read-only."
    if size > len(data) or len(data) >= limit:
        note = (f"Showing the first {format_bytes(len(data))} of {format_bytes(size)}, "
                "read-only. Copy it out to see all of it.")
    return text, note


class FileViewer(QDialog):
    def __init__(self, title: str, data: bytes, size: int, limit: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setObjectName("fileViewer")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        text, note = describe_content(data, size, limit)
        self.note = QLabel(note, self)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("About this file")
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("File content")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(text)
        self.text.setVisible(bool(text) or not note.startswith("This looks like"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        buttons.accepted.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(760, 560)
