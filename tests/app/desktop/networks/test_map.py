"""The network map against ``skiff network inspect`` and ``skiff port``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.mainwindow import MainWindow
from app.desktop.networks.mappage import MapPage
from engine.containers.config import PortBinding
from tests.app.desktop.cli import skiff
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish

pytestmark = [pytest.mark.gui, pytest.mark.root]


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    skiff("network", "create", "nm-front")
    try:
        yield from live_window(qapp, run, tmp_path)
    finally:
        skiff("network", "rm", "nm-front")


def test_the_map_draws_what_network_inspect_says_and_a_click_selects(
        window: MainWindow, run: Callable[..., Any], qtbot: Any) -> None:
    from PySide6.QtCore import QPoint, Qt

    page: MapPage = window.manage.map

    async def story() -> None:
        await make("busybox:latest", "map-web", ["sleep", "300"], network="nm-front",
                   ports=[PortBinding(80)])
        await make("busybox:latest", "map-db", ["sleep", "300"], network="nm-front")
        await make("busybox:latest", "map-solo", ["sleep", "300"])
        skiff("network", "connect", "bridge", "map-db")
        window.manage.show("map")
        names = {"map-web", "map-db", "map-solo"}
        await wait_for(lambda: names <= {n.name for n in page.map.data.nodes} and
                       any(n.name == "map-db" and len(n.networks) == 2
                           for n in page.map.data.nodes),
                       page.changed, timeout=60, what="the three containers drawn")
        data = page.map.data
        ids = {n.container_id: n.name for n in data.nodes}
        for network in ("nm-front", "bridge"):
            inspected = json.loads(skiff("network", "inspect", network))[0]
            expected = {(c["Name"], c["IPv4Address"]) for c in inspected["Containers"].values()}
            drawn = {(ids[link.container_id], link.address) for link in data.links
                     if link.network == network}
            assert drawn == expected, network
        web = next(n for n in data.nodes if n.name == "map-web")
        published = skiff("port", "map-web").split()  # 80/tcp -> 0.0.0.0:NNNN
        arrows = [a for a in data.arrows if a.container_id == web.container_id]
        assert [(a.target, a.host) for a in arrows] == [(published[0], published[2])]
        screenshot(window, "network-map")

        centre = page.map.node_rects[web.container_id].center()
        qtbot.mouseClick(page.map, Qt.MouseButton.LeftButton,
                         pos=QPoint(int(centre.x()), int(centre.y())))
        current = window.current()
        assert current is not None and current.name == "map-web"
        assert window.manage.current() == "map" and page.map.selected == web.container_id

    run(story(), timeout=300)
    publish("network-map")
