"""The sidebar groups a compose project's containers under a header row with the project's
overall status; collapsing hides them; the filter finds a project by its name (issue 15)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.desktop.containers.model import ContainerModel, ContainerSortModel
from app.desktop.containers.projectrows import header_key
from engine.containers.state import Status
from tests.app.desktop.samples import container


def _member(name: str, project: str, status: Status = Status.RUNNING) -> Any:
    return container(name, status, labels={"com.docker.compose.project": project,
                                           "com.docker.compose.service": name.split("-")[1]})


def _rows(proxy: ContainerSortModel) -> list[str]:
    return [str(proxy.index(r, 0).data(Qt.ItemDataRole.DisplayRole))
            for r in range(proxy.rowCount())]


def test_a_projects_containers_sit_under_its_header(qtmodeltester: Any) -> None:
    model = ContainerModel()
    proxy = ContainerSortModel()
    proxy.setSourceModel(model)
    model.sync([container("zeta"), _member("shop-web-1", "shop"),
                _member("shop-db-1", "shop", Status.EXITED), container("alpha", Status.EXITED),
                _member("blog-app-1", "blog")])
    qtmodeltester.check(proxy, force_py=True)  # one tester watches one model at a time
    # projects first, then the other containers (running first)
    assert _rows(proxy) == ["blog", "blog-app-1", "shop", "shop-web-1", "shop-db-1", "zeta",
                            "alpha"]
    shop = model.entry(header_key("shop"))
    assert shop is not None and shop.header and shop.container is None
    assert (shop.badge.kind, shop.badge.text) == ("starting", "1/2 running")
    assert shop.image == "compose · 2 containers"
    tip = model.data(model.index(model.row_of(shop.key) or 0, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip == "Compose project shop: 1/2 running\nshop-web-1: Running\nshop-db-1: Exited (0)"
    assert model.names() == {"zeta", "shop-web-1", "shop-db-1", "alpha", "blog-app-1"}

    proxy.set_collapsed("shop", True)
    assert _rows(proxy) == ["blog", "blog-app-1", "shop", "zeta", "alpha"]
    proxy.set_collapsed("shop", False)
    proxy.set_filter_text("sho")
    assert _rows(proxy) == ["shop", "shop-web-1", "shop-db-1"]
    proxy.set_filter_text("")

    # the whole project stops: its header says so; within it, running first
    model.update([_member("shop-web-1", "shop", Status.EXITED)])
    shop = model.entry(header_key("shop"))
    assert shop is not None and (shop.badge.kind, shop.badge.text) == ("exited", "Exited")
    assert _rows(proxy) == ["blog", "blog-app-1", "shop", "shop-db-1", "shop-web-1", "zeta",
                            "alpha"]
    # its last container goes: so does its header
    model.sync([container("zeta"), container("alpha", Status.EXITED),
                _member("blog-app-1", "blog")])
    assert model.entry(header_key("shop")) is None
    assert _rows(proxy) == ["blog", "blog-app-1", "zeta", "alpha"]


def test_one_off_containers_stay_out_of_the_group() -> None:
    model = ContainerModel()
    model.sync([container("shop-web-run-1", labels={"com.docker.compose.project": "shop",
                                                    "com.docker.compose.oneoff": "True"})])
    assert [e.name for e in model.entries()] == ["shop-web-run-1"]
