"""Pruning with a preview: what would go and the space it returns, before it goes.

The page gives the choices (dangling or every unused image, say) and a function
that asks for a choice's preview (the engine's ``prune(dry_run=True)``, so the
preview is what the prune would take, by the prune's own rule); the dialog shows
the answer as the user picks, ``preview_shown``, and runs the prune only on the
button. Shown with ``open()`` so the event loop keeps running.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine import human_size

__all__ = ["Preview", "Previewer", "PruneDialog"]

#: the names that would go, and the bytes that would return (-1: not counted)
Preview = tuple[list[str], int]
#: ``previewer(key, answer, failed)`` asks for key's preview; ``answer(preview)`` when it
#: comes, ``failed(message)`` when it cannot (the engine said why)
Previewer = Callable[[str, Callable[[Preview], None], Callable[[str], None]], None]


class PruneDialog(QDialog):
    preview_shown = Signal()

    def __init__(self, title: str, choices: Sequence[tuple[str, str]],
                 preview: Previewer, on_prune: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        """``choices``: (key, label); ``preview(key, answer)``; ``on_prune(key)`` on
        confirm."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._preview = preview
        self._on_prune = on_prune
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        self.keys: list[str] = []
        self.shown = ""  # the choice whose preview the list shows ("": none yet)
        for number, (key, label) in enumerate(choices):
            button = QRadioButton(label, self)
            self.group.addButton(button, number)
            layout.addWidget(button)
            self.keys.append(key)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setAccessibleName("What would be removed")
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        self.buttons = QDialogButtonBox(self)
        self.prune_button = self.buttons.addButton("Prune",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_accepted)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.group.idToggled.connect(self._on_group_id_toggled)
        if self.group.buttons():
            self.group.buttons()[0].setChecked(True)
        self.resize(520, 380)

    def _on_group_id_toggled(self, _number: int, checked: bool) -> None:
        if checked:
            self.refresh()

    def choose(self, key: str) -> None:
        if key in self.keys:
            self.group.buttons()[self.keys.index(key)].setChecked(True)

    def choice(self) -> str:
        number = self.group.checkedId()
        return self.keys[number] if 0 <= number < len(self.keys) else ""

    def refresh(self) -> None:
        key = self.choice()
        self.shown = ""
        self.list.clear()
        self.summary.setText("Counting what would be removed…")
        self.prune_button.setEnabled(False)
        self._preview(key, lambda preview: self._show(key, preview),
                      lambda message: self._failed(key, message))

    def _failed(self, key: str, message: str) -> None:
        """No preview, so no prune: say why instead of counting for ever."""
        if key != self.choice():
            return
        self.summary.setText(f"Could not count what would be removed. {message}")
        self.preview_shown.emit()

    def _show(self, key: str, preview: Preview) -> None:
        if key != self.choice():
            return  # the user picked another choice meanwhile: its answer is coming
        names, size = preview
        self.shown = key
        self.list.clear()
        self.list.addItems(names)
        if names:
            returned = f", returning {human_size(size)}" if size >= 0 else ""
            self.summary.setText(f"{len(names)} will be removed{returned}:")
        else:
            self.summary.setText("Nothing to remove: everything is in use.")
        self.prune_button.setEnabled(bool(names))
        self.preview_shown.emit()

    def previewed(self) -> list[str]:
        return [self.list.item(n).text() for n in range(self.list.count())]

    def _on_accepted(self) -> None:
        key = self.choice()
        self.accept()
        self._on_prune(key)
