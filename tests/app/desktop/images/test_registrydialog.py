"""The Add Registry dialog checks the address and asks for a password with a user."""

from __future__ import annotations

from typing import Any


def test_registry_dialog(qtbot: Any) -> None:
    from app.desktop.images.registrydialog import RegistryDialog, check_registry

    assert check_registry("https://127.0.0.1:5000/") == "127.0.0.1:5000"
    assert check_registry("registry.example.com") == "registry.example.com"
    assert check_registry("not a host") == ""
    dialog = RegistryDialog()
    qtbot.addWidget(dialog)
    chosen: list[tuple[str, str, str]] = []
    dialog.chosen.connect(lambda *args: chosen.append(args))
    dialog.address.setText("bad host")
    dialog._on_ok()
    assert chosen == [] and "host name" in dialog.problem.text()
    dialog.address.setText("127.0.0.1:5000")
    dialog.username.setText("me")
    dialog._on_ok()
    assert chosen == [] and "password" in dialog.problem.text()
    dialog.password.setText("secret")
    dialog._on_ok()
    assert chosen == [("127.0.0.1:5000", "me", "secret")]
