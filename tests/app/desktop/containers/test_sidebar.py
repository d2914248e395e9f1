"""The containers sidebar: filter, select, and the Delete key."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.desktop.containers.model import ContainerModel
from app.desktop.containers.sidebar import Sidebar
from tests.app.desktop.samples import fleet


def test_sidebar_filter_select_and_delete_key(qtbot: Any) -> None:
    model = ContainerModel()
    sidebar = Sidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.show()
    assert sidebar.empty.isVisible()
    model.sync(fleet())
    assert not sidebar.empty.isVisible()
    keys: list[str] = []
    sidebar.current_changed.connect(keys.append)
    assert sidebar.select(fleet()[3].id)
    assert keys[-1] == fleet()[3].id and sidebar.current_key() == fleet()[3].id
    sidebar.filter.setText("web")
    assert sidebar.proxy.rowCount() == 1
    with qtbot.waitSignal(sidebar.remove_requested):
        sidebar.view.setFocus()
        QTest.keyClick(sidebar.view, Qt.Key.Key_Delete)


def test_a_click_on_a_projects_arrow_folds_it(qtbot: Any) -> None:
    from app.desktop.containers.delegate import PAD
    from app.desktop.containers.projectrows import header_key
    from tests.app.desktop.samples import container

    model = ContainerModel()
    sidebar = Sidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.resize(300, 400)
    sidebar.show()
    labels = {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"}
    model.sync([container("shop-web-1", labels=labels), container("zeta")])
    row = model.row_of(header_key("shop"))
    assert row is not None and sidebar.proxy.rowCount() == 3
    header = sidebar.proxy.mapFromSource(model.index(row, 0))
    arrow = sidebar.view.visualRect(header).topLeft() + QPoint(PAD, PAD)
    QTest.mouseClick(sidebar.view.viewport(), Qt.MouseButton.LeftButton, pos=arrow)
    assert sidebar.proxy.is_collapsed("shop") and sidebar.proxy.rowCount() == 2
    QTest.mouseClick(sidebar.view.viewport(), Qt.MouseButton.LeftButton, pos=arrow)
    assert not sidebar.proxy.is_collapsed("shop") and sidebar.proxy.rowCount() == 3
