"""examples/three-tier opened in the real window (issue 15): its three services come up in
order through the project page, the sidebar shows the project's group with db and app
healthy (the last probe on hover), and Down with its volume leaves nothing."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.desktop.containers.projectrows import header_key
from app.desktop.mainwindow import MainWindow
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, publish

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "three-tier" / "compose.yaml"


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    with socket.socket() as sock:  # the proxy's host port: one nobody uses
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PROXY_PORT", str(sock.getsockname()[1]))
    yield from live_window(qapp, run, tmp_path)


@pytest.mark.gui
@pytest.mark.root
def test_the_example_comes_up_healthy_in_its_group(window: MainWindow,
                                                   run: Callable[..., Any]) -> None:
    projects = window.projects
    page = projects.page
    model = window.containers

    def badges() -> dict[str, str]:
        return {c.name: e.badge.text for c in model.members("three-tier")
                if (e := model.entry(c.id)) is not None}

    async def story() -> None:
        assert projects.open_file(EXAMPLE) is not None
        assert "services: db, app, proxy" in page.status.text()
        page.buttons["up"].click()
        want = {"three-tier-db-1": "Healthy", "three-tier-app-1": "Healthy",
                "three-tier-proxy-1": "Running"}
        await wait_for(lambda: badges() == want, model.rowsInserted, model.dataChanged,
                       timeout=180, what="db and app healthy, proxy running")
        progress = page.progress.toPlainText()
        assert progress.index("Container three-tier-db-1  Healthy") < \
            progress.index("Container three-tier-app-1  Started")  # depends_on: healthy
        header = model.entry(header_key("three-tier"))
        assert header is not None and header.badge.text == "Running"
        db = model.entry(next(c.id for c in model.members("three-tier")
                              if c.name == "three-tier-db-1"))
        row = model.index(model.row_of(db.key) or 0, 0)
        assert "Last health check (exit 0)" in model.data(row, Qt.ItemDataRole.ToolTipRole)
        assert window.select(header_key("three-tier"))
        screenshot(window, "compose-three-tier")
        publish("compose-three-tier")

        page.buttons["down"].click()
        box = window.findChild(QMessageBox, "confirm")
        assert box is not None and box.checkBox() is not None
        box.checkBox().setChecked(True)
        next(b for b in box.buttons() if b.text() == "Down").click()
        await wait_for(lambda: "Volume three-tier_records  Removed" in
                       page.progress.toPlainText(), page.progress.textChanged, timeout=120,
                       what="the project down, its volume removed")
        await wait_for(lambda: not model.members("three-tier"), model.rowsRemoved,
                       timeout=60, what="the window told of the removals")

    run(story(), timeout=400)
