"""A compose project in the real window on the real engine (issue 15): Open Compose File…
shows its services, Up brings them up, the sidebar groups them under the project, the
project page interleaves their logs, Stop and Down (volumes asked for explicitly) act on
the whole project, and Show Commands has the ``skiff compose`` line of each action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.desktop.containers.model import ContainerModel
from app.desktop.containers.projectrows import header_key
from app.desktop.mainwindow import MainWindow
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, publish

COMPOSE = """\
name: shop
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; echo db says hello; sleep 600 & wait"]
    volumes: [data:/data]
  web:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; echo web says hello; sleep 600 & wait"]
    depends_on: [db]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
volumes:
  data: {}
"""


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


async def _volumes() -> set[str]:
    from engine import Engine

    async with Engine() as engine:
        return {v.name for v in await engine.volumes.list()}


@pytest.mark.gui
@pytest.mark.root
def test_open_up_logs_stop_and_down(window: MainWindow, run: Callable[..., Any],
                                    tmp_path: Path) -> None:
    projects = window.projects
    page = projects.page
    commands = window.plugins.commands
    model = window.containers
    path = tmp_path / "shop" / "compose.yaml"
    path.parent.mkdir()
    path.write_text(COMPOSE)

    def running() -> list[str]:
        return sorted(c.name for c in model.members("shop") if c.state.running)

    async def story() -> None:
        assert projects.open_file(path) is not None
        assert window.pages.currentWidget() is page and page.project == "shop"
        assert "services: db, web" in page.status.text()
        assert commands.latest() == f"skiff compose -f {path} config --services"

        page.buttons["up"].click()
        assert commands.latest() == f"skiff compose -f {path} up -d"
        await wait_for(lambda: running() == ["shop-db-1", "shop-web-1"], model.rowsInserted,
                       model.dataChanged, timeout=120, what="both services running")
        header = model.entry(header_key("shop"))
        assert header is not None and header.badge.text in ("Running", "1/2 running")
        proxy = window.sidebar.proxy
        rows = [str(proxy.index(r, 0).data(Qt.ItemDataRole.DisplayRole))
                for r in range(proxy.rowCount())]
        assert rows[:3] == ["shop", "shop-db-1", "shop-web-1"]
        # the list hears of the container from the engine's events, maybe before the
        # page's progress (compose's own stream) says it
        await wait_for(lambda: "Container shop-web-1  Started" in page.progress.toPlainText(),
                       page.progress.textChanged, timeout=60, what="web told started")
        await wait_for(lambda: "Container shop-web-1  Healthy" in page.progress.toPlainText(),
                       page.progress.textChanged, timeout=60, what="web told healthy")

        assert window.select(header_key("shop"))
        assert window.pages.currentWidget() is page
        shown = page.logs.text.textChanged
        await wait_for(lambda: "db says hello" in page.logs.shown_text()
                       and "web says hello" in page.logs.shown_text(), shown,
                       timeout=60, what="both services' lines in the project's logs")
        text = page.logs.shown_text()
        assert "shop-db-1  | db says hello" in text and "shop-web-1 | web says hello" in text
        page.logs.filter.setText("web says")
        assert page.logs.shown_text().strip() == "shop-web-1 | web says hello"
        page.logs.filter.setText("")
        window.plugins.show_commands.setChecked(True)  # the bar under the page says it
        page.buttons["restart"].click()
        assert commands.latest() == f"skiff compose -f {path} restart"
        await wait_for(lambda: page.logs.shown_text().count("web says hello") == 2, shown,
                       timeout=60, what="the restarted services' new lines")
        screenshot(window, "compose-project")
        publish("compose-project")

        window.sidebar.set_collapsed("shop", True)
        assert proxy.rowCount() == len(rows) - 2
        window.sidebar.set_collapsed("shop", False)

        page.buttons["stop"].click()
        assert commands.latest() == f"skiff compose -f {path} stop"
        await wait_for(lambda: not running(), model.dataChanged, timeout=60,
                       what="the project stopped")
        header = model.entry(header_key("shop"))
        assert header is not None and header.badge.text == "Exited"
        assert "shop_data" in await _volumes()

        assert window.select(header_key("shop"))
        window.sidebar.remove_requested.emit()  # Delete on the project's row: Down…
        box = window.findChild(QMessageBox, "confirm")
        assert box is not None and box.checkBox() is not None
        box.checkBox().setChecked(True)  # remove the volumes: asked for, never by default
        next(b for b in box.buttons() if b.text() == "Down").click()
        assert commands.latest() == f"skiff compose -f {path} down -v"
        await wait_for(lambda: model.entry(header_key("shop")) is None
                       and not model.members("shop"), model.rowsRemoved, timeout=60,
                       what="the project's containers gone")
        await wait_for(lambda: "Volume shop_data  Removed" in page.progress.toPlainText(),
                       page.progress.textChanged, timeout=60, what="its volume removed")
        assert "shop_data" not in await _volumes()
        assert all(e.key != header_key("shop") for e in model.entries())
        assert ContainerModel.HeaderRole  # the row kind the sidebar paints as a group

    run(story(), timeout=300)
