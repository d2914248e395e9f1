"""Light and dark: our own colours follow the palette; a dark desktop gets a dark window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from app.desktop.containers.model import ContainerModel
from app.desktop.containers.sidebar import Sidebar
from app.desktop.logs.view import LogView
from app.desktop.utils import theme
from tests.app.desktop.conftest import screenshot
from tests.app.desktop.logs.test_view import SAMPLE, line
from tests.app.desktop.samples import fleet


@pytest.fixture
def dark(qapp: Any) -> Iterator[None]:
    saved = QPalette(qapp.palette())
    qapp.setPalette(theme.dark_palette())
    yield
    qapp.setPalette(saved)


def test_badges_follow_the_palette(qapp: Any) -> None:
    light_bg, light_fg = theme.badge_colours("running", QPalette(QColor("#efefef")))
    dark_bg, _ = theme.badge_colours("running", theme.dark_palette())
    assert light_bg != dark_bg
    assert light_fg.name() == "#ffffff"
    assert theme.is_dark(theme.dark_palette())


def test_dark_desktop_gets_a_dark_palette(qapp: Any) -> None:
    saved = QPalette(qapp.palette())
    try:
        theme.follow_color_scheme(qapp)  # the platform's current scheme: nothing breaks
        theme.apply_color_scheme(qapp, Qt.ColorScheme.Dark)
        assert theme.is_dark(qapp.palette())
        theme.apply_color_scheme(qapp, Qt.ColorScheme.Light)
        assert not theme.is_dark(qapp.palette())
    finally:
        qapp.setPalette(saved)


def test_dark_screenshots(qtbot: Any, dark: None, tmp_path: Path) -> None:
    model = ContainerModel()
    model.sync(fleet())
    sidebar = Sidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.resize(280, 480)
    sidebar.show()
    sidebar.select(fleet()[0].id)
    screenshot(sidebar, "sidebar-dark")
    log = tmp_path / "ctr.log"
    log.write_bytes(b"".join(line(i, text, stream)
                             for i, (stream, text) in enumerate(SAMPLE * 4)))
    view = LogView()
    qtbot.addWidget(view)
    view.resize(900, 420)
    view.show()
    view.open(log, live=False)
    assert view.model.wait_idle()
    qtbot.waitUntil(lambda: view.model.rowCount() == 32)
    view.search.setText("orders")
    view.apply_search()
    assert view.model.wait_idle()
    qtbot.waitUntil(lambda: view.matches.text() == "8 matches")
    screenshot(view, "log-view-dark")
    view.close_log()
