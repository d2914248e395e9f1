"""The Ports and Volumes tabs: their links open in the desktop, or are copied and said."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from app.desktop.inspect.data import MountRow, PortRow
from app.desktop.inspect.portstab import PortsView
from app.desktop.inspect.volumestab import VolumesView


def test_ports_and_volumes_tabs(qtbot: Any, tmp_path: Path) -> None:
    ports = PortsView()
    qtbot.addWidget(ports)
    ports.open_requested.disconnect()  # no real browser in tests
    opened: list[str] = []
    ports.open_requested.connect(opened.append)
    ports.set_ports([PortRow("80/tcp", "0.0.0.0", "8080", "http://localhost:8080"),
                     PortRow("53/udp", "", "5353", "")])
    assert [b.text() for b in ports.links] == ["Open http://localhost:8080"]
    ports.links[0].click()
    assert opened == ["http://localhost:8080"]
    volumes = VolumesView()
    qtbot.addWidget(volumes)
    volumes.open_requested.disconnect()
    folders: list[str] = []
    volumes.open_requested.connect(folders.append)
    volumes.set_mounts([MountRow("bind", str(tmp_path), "/data", False),
                        MountRow("volume", "cache", "/cache", True)])
    assert [b.isEnabled() for b in volumes.buttons] == [True, False]
    volumes.buttons[0].click()
    assert folders == [str(tmp_path)]


class UrlCatcher(QObject):
    """A desktop that opens URLs, through Qt's own hook for URL handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def catch(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_links_go_to_the_desktop_or_the_clipboard_never_nowhere(qtbot: Any,
                                                                tmp_path: Path) -> None:
    ports = PortsView()
    volumes = VolumesView()
    for view in (ports, volumes):
        qtbot.addWidget(view)
    failures: list[str] = []
    ports.failed.connect(failures.append)
    volumes.failed.connect(failures.append)
    ports.set_ports([PortRow("80/tcp", "0.0.0.0", "8080", "http://localhost:8080")])
    volumes.set_mounts([MountRow("bind", str(tmp_path), "/data", False)])
    catcher = UrlCatcher()
    for scheme in ("http", "file"):
        QDesktopServices.setUrlHandler(scheme, catcher, "catch")
    try:
        ports.links[0].click()
        volumes.buttons[0].click()
    finally:
        for scheme in ("http", "file"):
            QDesktopServices.unsetUrlHandler(scheme)
    assert catcher.urls == ["http://localhost:8080", QUrl.fromLocalFile(str(tmp_path)).toString()]
    assert failures == []
    # Offscreen there is no desktop to hand them to: said in the window, and copied.
    ports.links[0].click()
    assert failures == ["No web browser opened http://localhost:8080. The address is on the "
                        "clipboard: paste it into a browser."]
    assert QGuiApplication.clipboard().text() == "http://localhost:8080"
    volumes.buttons[0].click()
    assert failures[1].startswith(f"No file manager opened {tmp_path}.")
    assert QGuiApplication.clipboard().text() == str(tmp_path)
