"""Questions that do not block the event loop: a window-modal box, answered by callback.

``QMessageBox.exec()`` would start a nested event loop inside an asyncio task;
``open()`` shows the same box and lets the qasync loop keep running.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["ask", "tell"]


def ask(parent: QWidget, title: str, text: str, accept: str,
        on_accept: Callable[[], None], *, informative: str = "",
        destructive: bool = True) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    yes = box.addButton(accept, QMessageBox.ButtonRole.DestructiveRole if destructive
                        else QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setAccessibleName(title)
    box.setObjectName("confirm")

    def finished(_result: int) -> None:
        if box.clickedButton() is yes:
            on_accept()
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return box


def tell(parent: QWidget, title: str, text: str,
         icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setIcon(icon)
    box.setText(text)
    box.setAccessibleName(title)
    box.finished.connect(lambda _r: box.deleteLater())
    box.open()
    return box
