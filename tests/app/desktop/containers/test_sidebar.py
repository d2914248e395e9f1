"""The containers sidebar: filter, select, and the Delete key."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
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
