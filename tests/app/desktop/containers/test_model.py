"""The containers list's model and its sort/filter proxy, against qtmodeltester."""

from __future__ import annotations

from typing import Any

from app.desktop.containers.createjob import CreateJob
from app.desktop.containers.model import ContainerModel, ContainerSortModel
from engine.containers.state import Status
from engine.registry.model import PullProgress
from tests.app.desktop.samples import NGINX_ID, container, fleet


def names(proxy: ContainerSortModel) -> list[str]:
    return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]


def test_container_model(qtmodeltester: Any) -> None:
    model = ContainerModel()
    model.sync(fleet())
    qtmodeltester.check(model, force_py=True)
    row = model.row_of(fleet()[5].id)
    assert row is not None
    index = model.index(row, 0)
    assert index.data(ContainerModel.BadgeTextRole) == "OOM-killed"
    assert index.data(ContainerModel.ImageRole) == "busybox:latest"


def test_running_first_then_by_name_and_filter(qtmodeltester: Any) -> None:
    model = ContainerModel()
    proxy = ContainerSortModel()
    proxy.setSourceModel(model)
    model.sync(fleet())
    qtmodeltester.check(proxy, force_py=True)
    assert names(proxy) == ["api", "cache", "web", "worker",
                            "backup", "crashy", "fresh", "hungry"]
    model.update([container("backup", Status.RUNNING)])
    assert names(proxy)[:5] == ["api", "backup", "cache", "web", "worker"]
    proxy.set_filter_text("NGINX")
    assert names(proxy) == ["web"]
    proxy.set_filter_text("cr")
    assert names(proxy) == ["crashy"]


def test_sync_updates_in_place_removes_and_appends() -> None:
    model = ContainerModel()
    model.sync(fleet())
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles: changed.append(top.row()))
    web_row = model.row_of(fleet()[0].id)
    model.sync([container("web", Status.EXITED, exit_code=0, image="nginx:1.27",
                          image_id=NGINX_ID), container("new")])
    assert [e.name for e in model.entries()] == ["web", "new"]
    assert web_row == 0 and changed == [0]
    assert model.entries()[0].badge.text == "Exited (0)"


def test_jobs_are_rows_until_their_container_exists(qapp: Any) -> None:
    model = ContainerModel()
    proxy = ContainerSortModel()
    proxy.setSourceModel(model)
    model.sync([container("zed", Status.EXITED)])
    job = CreateJob("busybox:latest", "busybox")
    model.add_job(job)
    assert names(proxy) == ["busybox", "zed"]
    entry = model.entry(job.key)
    assert entry is not None and entry.badge.text == "Downloading"
    job.on_progress(PullProgress("sha256:1", "downloading", 50, 100))
    assert model.entry(job.key).badge.text == "Downloading 50 %"  # type: ignore[union-attr]
    job.set_phase("creating")
    assert model.entry(job.key).badge.text == "Creating"  # type: ignore[union-attr]
    job.set_phase("failed")
    assert model.entry(job.key) is None
