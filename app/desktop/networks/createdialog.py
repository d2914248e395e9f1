"""Asking for a new network: its name, and optionally its subnet and gateway,
checked as the user types so the Create button only takes what can work, and
whether it has IPv6 too (a subnet of the host's own range, chosen for it)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from app.desktop.networks.data import check_subnet

__all__ = ["CreateNetworkDialog"]


class CreateNetworkDialog(QDialog):
    def __init__(self, on_create: Callable[[str, str, str, bool], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Create network")
        self.setAccessibleName("Create network")
        self._on_create = on_create
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("backend")
        self.subnet = QLineEdit(self)
        self.subnet.setPlaceholderText("chosen for you, or e.g. 10.20.0.0/24")
        self.gateway = QLineEdit(self)
        self.gateway.setPlaceholderText("the subnet's first address")
        self.ipv6 = QCheckBox("IPv6 too (an IPv6 subnet of this computer's own range)", self)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel, self)
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create")
        self.buttons.accepted.connect(self._on_accepted)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Name:", self.name)
        form.addRow("Subnet:", self.subnet)
        form.addRow("Gateway:", self.gateway)
        form.addRow(self.ipv6)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        for edit in (self.name, self.subnet, self.gateway):
            edit.textChanged.connect(self.check)
        self.check()

    def check(self) -> str:
        name = self.name.text().strip()
        problem = check_subnet(self.subnet.text().strip(), self.gateway.text().strip())
        if not name:
            problem = problem or "Give the network a name."
        self.problem.setText(problem)
        self.create_button.setEnabled(not problem)
        return problem

    def _on_accepted(self) -> None:
        if self.check():
            return
        self.accept()
        self._on_create(self.name.text().strip(), self.subnet.text().strip(),
                        self.gateway.text().strip(), self.ipv6.isChecked())
