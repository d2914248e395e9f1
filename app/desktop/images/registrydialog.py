"""Adding a private registry to the image browser (optionally logging in)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine import registry_host

__all__ = ["RegistryDialog", "check_registry"]


def check_registry(text: str) -> str:
    """``127.0.0.1:5000`` or ``registry.example.com``; "" if it is not one (the engine's rule)."""
    return registry_host(text)


class RegistryDialog(QDialog):
    """Emits ``chosen(address, username, password)``; the caller logs in if asked."""

    chosen = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a registry")
        self.setAccessibleName("Add a registry")
        self.address = QLineEdit(self)
        self.address.setPlaceholderText("registry.example.com or 127.0.0.1:5000")
        self.address.setAccessibleName("Registry address")
        self.username = QLineEdit(self)
        self.username.setPlaceholderText("only if it needs a login")
        self.username.setAccessibleName("User name")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.problem = QLabel(self)
        self.problem.setStyleSheet("QLabel { color: #d9534f; }")
        self.problem.setWordWrap(True)
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Address:", self.address)
        form.addRow("&User name:", self.username)
        form.addRow("&Password:", self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self._on_ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Skiff lists the images of a private registry from its "
                                "catalog. Leave the user name empty if it needs no login.",
                                self))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _on_ok(self) -> None:
        address = check_registry(self.address.text())
        if not address:
            self.problem.setText("Write the registry's host name, with its port if it is not "
                                 "443, such as 127.0.0.1:5000.")
            self.problem.show()
            return
        if self.username.text() and not self.password.text():
            self.problem.setText("Write the password too, or leave the user name empty.")
            self.problem.show()
            return
        self.chosen.emit(address, self.username.text(), self.password.text())
        self.accept()
