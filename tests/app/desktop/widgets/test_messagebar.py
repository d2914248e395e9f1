"""The message bar: errors once each, the newest few."""

from __future__ import annotations

from typing import Any

from app.desktop.widgets.messagebar import MessageBar


def test_message_bar(qtbot: Any) -> None:
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.show_error("Could not start web: port 80 is taken.")
    bar.show_error("Could not start web: port 80 is taken.")
    assert bar.messages() == ["Could not start web: port 80 is taken."]
    for i in range(6):
        bar.show_error(f"message {i}")
    assert len(bar.messages()) == 4
    bar.clear()
    assert bar.messages() == []
