"""Pruning with a preview: what would go and the space it returns, before it goes.

The page gives the choices (dangling or every unused image, say) and a function
that previews a choice; the dialog shows the preview as the user picks and runs
the prune only on the button. Shown with ``open()`` so the event loop keeps running.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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

__all__ = ["Preview", "PruneDialog"]

#: the names that would go, and the bytes that would return (-1: not counted)
Preview = tuple[list[str], int]


class PruneDialog(QDialog):
    def __init__(self, title: str, choices: Sequence[tuple[str, str]],
                 preview: Callable[[str], Preview], on_prune: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        """``choices``: (key, label); ``preview(key)``; ``on_prune(key)`` on confirm."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._preview = preview
        self._on_prune = on_prune
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        self.keys: list[str] = []
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
        names, size = self._preview(self.choice())
        self.list.clear()
        self.list.addItems(names)
        if names:
            returned = f", returning {human_size(size)}" if size >= 0 else ""
            self.summary.setText(f"{len(names)} will be removed{returned}:")
        else:
            self.summary.setText("Nothing to remove: everything is in use.")
        self.prune_button.setEnabled(bool(names))

    def previewed(self) -> list[str]:
        return [self.list.item(n).text() for n in range(self.list.count())]

    def _on_accepted(self) -> None:
        key = self.choice()
        self.accept()
        self._on_prune(key)
