"""Handing a URL or folder to the desktop (browser, file manager), never silently.

``QDesktopServices.openUrl`` returns False when nothing took the URL: no
xdg-open, no browser, or a root session without the user's desktop. The text
then goes to the clipboard, and the caller says so in the window.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

__all__ = ["open_or_copy"]


def open_or_copy(url: QUrl, text: str) -> bool:
    """Open ``url``; if nothing opened it, put ``text`` on the clipboard and return False."""
    if QDesktopServices.openUrl(url):
        return True
    QGuiApplication.clipboard().setText(text)
    return False
