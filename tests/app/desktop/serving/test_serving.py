"""File ▸ Serve the Docker API While Open: the window serves the API on its own
engine, stops when unchecked or closed, and remembers the setting."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.api.server import Address
from app.desktop.mainwindow import MainWindow
from app.desktop.serving.toggle import SERVE_KEY
from tests.app.desktop.conftest import wait_for
from tests.app.desktop.livewindow import live_window

pytestmark = [pytest.mark.gui, pytest.mark.root]


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


async def _get(sock: Path, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock))) as s, \
            s.get(f"http://localhost{path}") as answer:
        return answer.status, await answer.json()


def test_the_window_serves_the_api_while_checked(window: MainWindow, run: Callable[..., Any],
                                                 tmp_path: Path) -> None:
    toggle = window.plugins.serving
    sock = tmp_path / "api" / "docker.sock"
    toggle.server.address = lambda: Address("unix", str(sock))
    action = toggle.action
    assert not action.isChecked() and toggle.server.state == "off"
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()  # type: ignore[union-attr]

    action.setChecked(True)
    run(wait_for(lambda: toggle.server.state == "serving", toggle.server.state_changed,
                 what="the API server to listen"))
    assert toggle.label.isVisibleTo(window) and str(sock) in toggle.label.toolTip()
    status, images = run(_get(sock, "/v1.44/images/json"))
    assert status == 200 and any("busybox:latest" in i["RepoTags"] for i in images)
    assert toggle._qs.value(SERVE_KEY) in (True, "true")

    action.setChecked(False)
    run(wait_for(lambda: toggle.server.state == "off", toggle.server.state_changed,
                 what="the API server to stop"))
    assert not sock.exists() and not toggle.label.isVisibleTo(window)


def test_a_socket_served_elsewhere_is_reported(window: MainWindow, run: Callable[..., Any],
                                               tmp_path: Path) -> None:
    toggle = window.plugins.serving
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as other:  # `skiff serve` or the systemd socket
        other.bind(str(path))
        other.listen()
        toggle.server.address = lambda: Address("unix", str(path))
        toggle.action.setChecked(True)
        run(wait_for(window.messages.messages, toggle.server.failed,
                     what="an error message"))
        run(wait_for(lambda: toggle.server.state == "off", toggle.server.state_changed,
                     what="the API server to give up"))
    [message] = window.messages.messages()
    assert "serve the Docker API" in message and "already listens" in message
    assert path.exists()  # the other server's socket is left alone
