"""A hidden Files tab lists nothing: the tree view fetches the root after each reset,
shown or not (at launch, the selected container's / was listed for a tab nobody saw)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication

from app.desktop.bridge import Bridge
from app.desktop.files.view import FilesView
from tests.app.desktop.samples import container


def test_a_hidden_files_tab_lists_nothing_until_shown(qtbot: Any) -> None:
    bridge = Bridge(lambda: None)
    asked: list[str] = []
    bridge.submit = lambda action, *_args, **_kw: asked.append(action)  # type: ignore
    view = FilesView(bridge)
    qtbot.addWidget(view)
    view.set_container(container("web"))
    for _ in range(3):  # the tree's delayed layout (a zero timer): its fetch of the root
        QApplication.processEvents()
    assert not [a for a in asked if "list" in a]
    view.show()
    qtbot.waitUntil(lambda: any("list" in a for a in asked))
