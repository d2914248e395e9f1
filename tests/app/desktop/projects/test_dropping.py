"""A compose file dropped on the window opens; other files are not the window's to take."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from app.desktop.projects.controller import Projects


def _dropped(*paths: str) -> list[Path]:
    data = QMimeData()  # the event does not own it: it lives as long as this call
    data.setUrls([QUrl.fromLocalFile(p) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    return Projects._dropped(event)


def test_only_compose_files_are_taken(qapp: Any) -> None:
    assert _dropped("/srv/app/compose.yaml", "/srv/notes.txt") == [Path("/srv/app/compose.yaml")]
    assert _dropped("/srv/docker-compose.yml") == [Path("/srv/docker-compose.yml")]
    assert _dropped("/srv/notes.txt") == []
