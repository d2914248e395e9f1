"""The window without a working engine: it says why, in words, and stays usable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.desktop.main import build
from app.desktop.mainwindow import MainWindow


def cannot_open() -> object:
    raise PermissionError(13, "Permission denied", "/var/lib/skiff/helper")


def test_an_engine_that_cannot_start_says_so(qapp: Any, run: Callable[..., Any],
                                             tmp_path: Path) -> None:
    bridge, window = build(qapp, cannot_open, tmp_path / "desktop.conf")
    assert isinstance(window, MainWindow)
    window.show()
    try:
        assert not run(bridge.open())
        expected = ("Could not start the Skiff engine: permission denied on "
                    "/var/lib/skiff/helper. Check that you may use that file or folder.")
        assert window.messages.messages() == [expected]
        assert window.welcome.text() == expected
        window.show_browser()
        window.browser.set_source("hub")
        window.browser.query.setText("nginx")
        task = window.browser.bridge.search("nginx", lambda _r: None,
                                            window.browser.show_error)
        run(task)
        assert window.browser.notice.text() == expected
    finally:
        window.close()
        run(bridge.close())


def test_menus_list_the_shortcuts(qapp: Any, tmp_path: Path) -> None:
    _bridge, window = build(qapp, cannot_open, tmp_path / "desktop.conf")
    assert isinstance(window, MainWindow)
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString()
                 for m in window.menuBar().actions() if m.menu() is not None
                 for a in m.menu().actions()  # type: ignore[attr-defined]
                 if not a.shortcut().isEmpty()}
    assert shortcuts.items() >= {
        "New Container…": "Ctrl+N", "Import Image from File…": "Ctrl+I", "Refresh": "F5",
        "Quit": "Ctrl+Q", "Start": "Ctrl+Shift+S", "Stop": "Ctrl+Shift+X",
        "Restart": "Ctrl+Shift+R", "Pause": "Ctrl+Shift+P", "Resume": "Ctrl+Shift+U",
        "Exec": "Ctrl+Shift+T", "Remove…": "Ctrl+Del", "Find Container": "Ctrl+K",
        "Container List": "Ctrl+0", "Logs": "Ctrl+1", "Ports": "Ctrl+2", "Volumes": "Ctrl+3",
        "Settings": "Ctrl+4", "Inspect": "Ctrl+5", "Find…": "Ctrl+F", "Next Match": "F3",
        "Previous Match": "Shift+F3", "Jump to Time…": "Ctrl+J", "Copy Lines": "Ctrl+C",
        "Save Log…": "Ctrl+S", "Clear View": "Ctrl+Shift+K", "Follow Newest Lines": "End",
        "Keyboard Shortcuts": "F1"}.items()  # plug-in tabs add theirs
    assert len(set(shortcuts.values())) == len(shortcuts), "a shortcut is used twice"
    window.close()
