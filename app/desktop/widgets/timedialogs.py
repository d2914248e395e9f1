"""The dialogs a log view opens: a moment to jump to, a file to save to. The container's
Logs tab and a project's logs ask the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ask_jump_time", "ask_save_path", "utc_stamp_to_local"]


def utc_stamp_to_local(stamp: str) -> QDateTime:
    """A log line's RFC 3339 UTC time, to the second, as local time (now if unreadable)."""
    moment = QDateTime.fromString(stamp[:19], "yyyy-MM-ddTHH:mm:ss")
    moment.setTimeZone(moment.timeZone().utc())
    return moment.toLocalTime() if moment.isValid() else QDateTime.currentDateTime()


def ask_jump_time(parent: QWidget, initial: QDateTime, chosen: Callable[[int], object]
                  ) -> QDialog:
    """Ask for a moment (local time, shown from ``initial``); ``chosen`` gets it in ns
    since the epoch when the user says OK."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Jump to time")
    dialog.setAccessibleName("Jump to time")
    edit = QDateTimeEdit(dialog)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
    edit.setCalendarPopup(True)
    edit.setAccessibleName("Time to jump to")
    edit.setDateTime(initial)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLabel("Show the first line written at or after:", dialog))
    layout.addWidget(edit)
    layout.addWidget(buttons)

    def done(result: int) -> None:
        if result == QDialog.DialogCode.Accepted:
            chosen(edit.dateTime().toMSecsSinceEpoch() * 1_000_000)
        dialog.deleteLater()

    dialog.finished.connect(done)
    dialog.open()
    return dialog


def ask_save_path(parent: QWidget, chosen: Callable[[Path], object]) -> QFileDialog:
    """Ask where to save a log (a .log by default); ``chosen`` gets the path."""
    dialog = QFileDialog(parent, "Save log")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setNameFilters(["Text files (*.log *.txt)", "All files (*)"])
    dialog.setDefaultSuffix("log")
    dialog.fileSelected.connect(lambda name: chosen(Path(name)))
    dialog.finished.connect(lambda _r: dialog.deleteLater())
    dialog.open()
    return dialog
