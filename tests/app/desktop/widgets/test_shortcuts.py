"""Help, Keyboard Shortcuts lists the menu items that have one."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenuBar

from app.desktop.widgets.shortcuts import shortcut_lines


def test_the_items_with_a_shortcut(qtbot: Any) -> None:
    bar = QMenuBar()
    qtbot.addWidget(bar)
    menu = bar.addMenu("&File")
    menu.addAction("&Quit").setShortcut(QKeySequence("Ctrl+Q"))
    menu.addAction("About")
    bar.addMenu("&Empty")
    assert shortcut_lines(bar) == ["Quit: Ctrl+Q"]
