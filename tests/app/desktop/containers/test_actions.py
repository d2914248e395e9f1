"""The container actions and the header's buttons follow the container's state."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from app.desktop.containers.actions import ContainerActions
from app.desktop.containers.header import ContainerHeader
from engine.containers.state import Status
from tests.app.desktop.samples import container


def test_actions_follow_the_state(qtbot: Any) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    actions = ContainerActions(window)
    header = ContainerHeader(actions, window)
    actions.update_for(None)
    assert not any(a.isEnabled() for a in actions.all())
    running = container("web")
    actions.update_for(running)
    header.set_container(running)
    assert (actions.stop.isEnabled(), actions.in_header("start"), actions.in_header("stop")) == (
        True, False, True)
    assert not header.buttons["start"].isVisibleTo(header)
    assert header.buttons["stop"].isVisibleTo(header)
    # The menu lists both, whatever the state: a hidden action is missing from menus.
    assert actions.start.isVisible() and actions.stop.isVisible()
    assert actions.pause.isEnabled() and actions.restart.isEnabled()
    assert not actions.exec.isEnabled()  # no terminal tab yet
    actions.terminal_available = True
    actions.update_for(running)
    assert actions.exec.isEnabled()
    assert header.name.text() == "web" and header.badge.text() == "Running"
    paused = container("web", Status.PAUSED)
    actions.update_for(paused)
    assert actions.in_header("unpause") and actions.unpause.isEnabled()
    assert not actions.in_header("pause") and not actions.exec.isEnabled()
    assert not header.buttons["pause"].isVisibleTo(header)
    exited = container("web", Status.EXITED, exit_code=3)
    actions.update_for(exited)
    header.set_container(exited)
    assert actions.start.isEnabled() and not actions.in_header("stop")
    assert actions.stop.isVisible() and not actions.stop.isEnabled()
    assert not actions.pause.isEnabled() and actions.remove.isEnabled()
    assert header.badge.text() == "Exited (3)"
    assert "Ctrl+Shift+S" in actions.start.toolTip()
