"""A deferred tab: its view is made when the tab first shows (or is asked for), and
starts with the container shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QTabWidget, QWidget

from app.desktop.widgets.deferredtab import DeferredTab
from engine import Container
from tests.app.desktop.samples import container


class _View(QLabel):
    def __init__(self, parent: QWidget) -> None:
        super().__init__("the view", parent)
        self.shown: list[str] = []

    def set_container(self, shown: Container | None) -> None:
        self.shown.append(shown.name if shown is not None else "")


def test_the_view_is_made_when_its_tab_shows(qtbot: Any) -> None:
    made: list[_View] = []

    def make(parent: QWidget) -> _View:
        made.append(_View(parent))
        return made[-1]

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("first"), "First")
    deferred = DeferredTab(make)
    created: list[QWidget] = []
    deferred.created.connect(lambda view: created.append(view))
    told: list[str] = []  # made or not
    deferred.container_set.connect(lambda shown: told.append(shown.name if shown else ""))
    tabs.addTab(deferred, "Deferred")
    deferred.set_container(container("web"))
    tabs.show()
    qtbot.waitExposed(tabs)
    assert not made and not deferred.made()
    tabs.setCurrentWidget(deferred)
    assert len(made) == 1 and deferred.view() is made[0] and created == made
    assert made[0].isVisible() and made[0].shown == ["web"]
    deferred.set_container(None)
    tabs.setCurrentIndex(0)
    tabs.setCurrentWidget(deferred)
    assert len(made) == 1 and made[0].shown == ["web", ""] and told == ["web", ""]


def test_asking_for_the_view_makes_it(qtbot: Any) -> None:
    deferred = DeferredTab(_View)
    qtbot.addWidget(deferred)
    view = deferred.view()
    assert isinstance(view, _View) and view.parent() is deferred and view.shown == [""]
    assert deferred.view() is view
