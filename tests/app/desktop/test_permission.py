"""When the helper cannot start for this user, the window says why in a dialog: the
same sentence the CLI prints (engine/polkit.py), once, however many actions failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from app.desktop.main import build
from engine import polkit
from engine.errors import HelperUnavailable
from tests.app.desktop.conftest import wait_for


def _no_agent(*_args: object) -> list[str]:
    """What engine/polkit.py raises for a user when pkexec finds no authentication agent
    (as root, the tests' engine would start the helper itself)."""
    raise polkit.explain(127, "Error executing command as another user: "
                              "No authentication agent found.\n")


def test_a_helper_that_cannot_start_is_a_dialog(qapp: Any, run: Callable[..., Any],
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                busybox_docker_archive: Path) -> None:
    monkeypatch.setenv("SKIFF_ROOT", str(tmp_path / "empty"))
    monkeypatch.setattr("engine.helperclient.helper_command", _no_agent)
    bridge, window = build(qapp, settings_path=tmp_path / "desktop.conf")
    window.show()
    try:
        assert run(bridge.open())
        told: list[str] = []
        bridge.helper_unavailable.connect(told.append)
        window.browser.import_file(busybox_docker_archive)
        window.browser.import_file(busybox_docker_archive)  # a second failure, same cause

        def dialogs() -> list[QMessageBox]:
            return [b for b in window.findChildren(QMessageBox, "helper-unavailable")
                    if b.isVisible()]

        run(wait_for(lambda: len(told) == 2 and dialogs(), bridge.helper_unavailable,
                     timeout=60, what="both imports failed, the dialog shown"))
        [box] = dialogs()  # one dialog for the two
        assert box.text() == polkit.NO_AGENT
        assert box.icon() == QMessageBox.Icon.Warning
        assert window.messages.messages()[-1] == (
            f"Could not import {busybox_docker_archive.name}: {polkit.NO_AGENT}")
        box.accept()
        assert not dialogs()
    finally:
        window.close()
        run(bridge.close())


def test_the_sentence_is_not_blamed_on_a_stopped_helper() -> None:
    from app.desktop.utils.messages import describe

    assert describe("start web-1", HelperUnavailable(polkit.DISMISSED)) == (
        f"Could not start web-1: {polkit.DISMISSED}")
