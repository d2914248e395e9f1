"""Help, Keyboard Shortcuts: every menu item that has a shortcut, as the menus say it."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenuBar

__all__ = ["shortcut_lines"]


def shortcut_lines(bar: QMenuBar) -> list[str]:
    """``Text: Shortcut`` for each item of each menu of ``bar`` that has one."""
    lines = []
    for menu_action in bar.actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        for action in menu.actions():  # type: ignore[attr-defined]
            if action.shortcut().isEmpty():
                continue
            lines.append(f"{action.text().replace('&', '')}: "
                         f"{action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}")
    return lines
