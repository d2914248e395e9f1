"""The Logs tab's shortcuts work only while the tab shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QToolButton, QWidget


def test_log_shortcuts_work_only_while_the_logs_tab_shows(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QTabWidget

    from app.desktop.logs.view import LogView

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    logs = LogView()
    settings = QWidget()
    tabs.addTab(logs, "Logs")
    tabs.addTab(settings, "Settings")
    tabs.show()
    qtbot.waitExposed(tabs)
    assert logs.a_save.isEnabled() and logs.a_find.isEnabled()
    tabs.setCurrentWidget(settings)
    assert not logs.a_save.isEnabled() and not logs.a_find.isEnabled()
    tabs.setCurrentWidget(logs)  # (a disabled action's shortcut never fires)
    assert logs.a_save.isEnabled()
    labels = {b.text() for b in logs.findChildren(QToolButton) if b.text()}
    assert labels == {"◀", "▶", "Jump to…", "Copy", "Save…", "Clear", "Delete…"}  # short
