"""Deleting a running container's log from the Logs tab, against the real engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from app.desktop.mainwindow import MainWindow
from tests.app.desktop.cli import skiff
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, select

pytestmark = [pytest.mark.gui, pytest.mark.root]

COUNTER = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done"


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


def _number(logs: Any, row: int) -> int:
    return int(str(logs.model.index(row, 1).data()).split()[1])


def test_delete_log_empties_it_and_the_view_goes_on_following(
        window: MainWindow, run: Callable[..., Any]) -> None:
    async def story() -> None:
        await make("busybox:latest", "log-deleter", ["sh", "-c", COUNTER])
        await select(window, "log-deleter", lambda c: c.state.running, "running")
        logs = window.details.logs
        window.show_tab("logs")
        await wait_for(lambda: logs.model.rowCount() >= 20, logs.model.rowsInserted,
                       timeout=30, what="20 log lines")
        assert logs.a_delete.isEnabled()
        logs.a_delete.trigger()
        question = window.details.question
        assert question is not None and "log-deleter" in question.text()
        screenshot(question, "logs-delete")
        before = _number(logs, logs.model.rowCount() - 1)
        yes = next(b for b in question.buttons()
                   if question.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole)
        yes.click()
        # the view starts again with what the container writes after the deletion
        await wait_for(lambda: logs.model.rowCount() >= 5 and _number(logs, 0) > before,
                       logs.model.rowsInserted, logs.model.modelReset, timeout=30,
                       what="the log started again")
        first = int(skiff("logs", "log-deleter").splitlines()[0].split()[1])
        assert first > before
        assert logs.following
        screenshot(window, "logs-deleted")

    run(story(), timeout=120)
