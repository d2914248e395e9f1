"""The window without a working engine: it says why, in words, and stays usable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from app.desktop.images import verbs
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
        task = verbs.search(window.browser.bridge, "nginx", lambda _r: None,
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


def test_the_menu_lists_start_and_stop_whatever_the_state(qapp: Any, tmp_path: Path) -> None:
    _bridge, window = build(qapp, cannot_open, tmp_path / "desktop.conf")
    menu = next(m.menu() for m in window.menuBar().actions()
                if m.text().replace("&", "") == "Container")
    listed = [a.text().replace("&", "") for a in menu.actions()  # type: ignore[attr-defined]
              if a.isVisible()]
    assert {"Start", "Stop", "Pause", "Resume"} <= set(listed)
    window.close()


def test_a_first_run_offers_the_ways_to_a_first_image(
        qapp: Any, run: Callable[..., Any], tmp_path: Path, monkeypatch: Any,
        busybox_docker_archive: Path) -> None:
    """A real engine on an empty storage root: no images, no containers."""
    import os

    import pytest

    if os.geteuid() != 0:
        pytest.skip("needs root: the engine's helper")
    from app.desktop.images.browser import HUB
    from app.desktop.images.welcome import FIRST_RUN, NO_CONTAINERS
    from tests.app.desktop.conftest import screenshot, wait_for

    empty = tmp_path / "empty"
    monkeypatch.setenv("SKIFF_ROOT", str(empty))
    # Its own cgroup parent, bridge and netfilter table, never the real skiff ones
    # (the session's are another root's).
    names = {"SKIFF_CGROUP_PARENT": f"skiff-test-{os.getpid()}-first",
             "SKIFF_NET_PREFIX": f"sf{os.getpid() % 1000}",
             "SKIFF_NET_TABLE": f"skiff_first_{os.getpid()}"}
    for key, value in names.items():
        monkeypatch.setenv(key, value)
    bridge, window = build(qapp, settings_path=tmp_path / "desktop.conf")
    window.resize(1000, 640)
    window.show()
    try:
        assert run(bridge.open())
        assert window.pages.currentWidget() is window.welcome
        assert window.welcome.text() == FIRST_RUN
        assert window.welcome.buttons.isVisibleTo(window.welcome)
        screenshot(window, "first-run")
        window.welcome.hub_button.click()
        assert window.pages.currentWidget() is window.browser
        assert window.browser.source_key() == HUB
        window.browser.closed.emit()
        window.welcome.build_button.click()  # build from a folder: the Build Image dialog
        from app.desktop.build.dialog import BuildDialog

        build_dialog = window.browser.findChild(BuildDialog)
        assert window.pages.currentWidget() is window.browser and build_dialog is not None
        build_dialog.reject()
        window.browser.closed.emit()
        window.welcome.import_button.click()
        dialog = window.browser.findChild(QFileDialog)
        assert window.pages.currentWidget() is window.browser and dialog is not None
        dialog.reject()
        window.browser.import_file(busybox_docker_archive)

        run(wait_for(lambda: window.images.rowCount() > 0, window.images.modelReset,
                     window.images.rowsInserted, timeout=60, what="the imported image"),
            timeout=90)
        window.browser.closed.emit()
        assert window.welcome.text() == NO_CONTAINERS
        assert not window.welcome.buttons.isVisibleTo(window.welcome)

        # images but no container: one click runs a first one and shows what it is
        assert window.welcome.run_button.isVisibleTo(window.welcome)
        window.welcome.run_button.click()

        async def first_container() -> Any:
            return await wait_for(
                lambda: (c := window.current()) is not None and c.state.status.is_active
                and window.details.current_tab() == "learn" and c,
                window.containers.dataChanged, window.details.tabs.currentChanged,
                timeout=60, what="the first container running, What Is This? shown")

        made = run(first_container(), timeout=90)
        assert made.config.image_id == window.images.rows()[0].image.id
        assert window.pages.currentWidget() is window.details
        # ... with its logs beside What Is This?, both in sight
        details = window.details
        assert details.beside_key() == "logs" and details.beside.isVisible()
        assert details.logs.isVisible() and details.current_tab() == "learn"
        run(wait_for(details.logs.is_open, details.logs.model.modelReset, timeout=30,
                     what="the first container's log open"), timeout=60)
        assert window.width() <= 1000
        screenshot(window, "first-container")
        details.end_beside()
        assert "logs" in details.tab_keys() and not details.beside.isVisible()
        assert details.show_tab("logs") and details.current_tab() == "logs"
        window.browser.finder.hub_failed("Could not search Docker Hub: it did not answer.")
        notice = window.browser.notice.text()
        assert "import an image file" in notice and "Add Registry" in notice
    finally:
        window.close()
        run(bridge.close())
        run(_remove_containers())
        _release(empty, names["SKIFF_CGROUP_PARENT"])


def _release(root: Path, cgroup_parent: str) -> None:
    """The private root's network, mounts and cgroups, once its containers are gone."""
    from tests.fixtures.engine import _remove_networks, _unmount_below

    _remove_networks(root)
    _unmount_below(root)
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        parent = hierarchy / cgroup_parent
        if parent.is_dir():
            for child in parent.iterdir():
                if child.is_dir():
                    child.rmdir()
            parent.rmdir()


async def _remove_containers() -> None:
    from engine import Engine

    async with Engine() as engine:
        for container in await engine.containers.list(all=True):
            await engine.containers.remove(container.id, force=True)
