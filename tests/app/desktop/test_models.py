"""Every item model against qtmodeltester, plus what each adds."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.desktop.containers.createjob import CreateJob
from app.desktop.containers.model import ContainerModel, ContainerSortModel
from app.desktop.images.model import ImageModel
from app.desktop.images.pullmodel import PullModel
from app.desktop.images.searchmodel import SearchModel
from app.desktop.inspect.jsonmodel import JsonModel
from app.desktop.settings.editmodel import Column, EditModel
from engine.containers.state import Status
from engine.registry.model import PullProgress, SearchResult
from tests.app.desktop.samples import BUSYBOX_ID, NGINX_ID, container, fleet, image


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


def test_image_model(qtmodeltester: Any) -> None:
    model = ImageModel()
    model.set_images([image(["docker.io/library/busybox:latest",
                             "docker.io/library/busybox:1.36"]),
                      image([], image_id=NGINX_ID, size=50_000_000)])
    model.set_containers(fleet())
    qtmodeltester.check(model, force_py=True)
    rows = [(model.index(r, 0).data(), model.index(r, 1).data()) for r in range(3)]
    assert rows == [("<none>", "<none>"), ("busybox", "1.36"), ("busybox", "latest")]
    assert model.index(2, 5).data() == "api, backup, crashy, fresh, hungry, worker"
    assert model.index(0, 5).data() == "web"
    assert model.index(0, 0).data(ImageModel.RefRole) == NGINX_ID
    assert model.index(1, 4).data() == "2.15MB"
    assert model.users(BUSYBOX_ID)[0] == "api"
    assert model.tags_of("busybox") == ["1.36", "latest"]


def test_search_model(qtmodeltester: Any) -> None:
    model = SearchModel()
    model.set_results([SearchResult("busybox", "tiny", 3000, True),
                       SearchResult("user/box", "", 0, False)])
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, 3).data() == "Official"
    assert model.index(1, 2).data() == ""
    assert model.index(1, 0).data(SearchModel.NameRole) == "user/box"


def test_pull_model(qtmodeltester: Any) -> None:
    model = PullModel()
    assert model.percent is None
    model.apply(PullProgress("sha256:" + "1" * 64, "downloading", 25, 100))
    model.apply(PullProgress("sha256:" + "2" * 64, "exists", 0, 300))
    qtmodeltester.check(model, force_py=True)
    assert model.percent == 81  # (25 + 300) / 400
    assert model.index(0, 2).data() == "25B / 100B"
    assert model.index(0, 2).data(PullModel.FractionRole) == 0.25
    assert model.index(1, 1).data() == "Already here"
    model.apply(PullProgress("sha256:" + "1" * 64, "done", 100, 100))
    assert model.complete and model.percent == 100


def test_json_model(qtmodeltester: Any) -> None:
    model = JsonModel()
    model.set_document({"Id": "abc", "State": {"Status": "running", "Pid": 4},
                        "Args": ["-c", "x"], "Empty": {}, "Flag": True, "None": None})
    qtmodeltester.check(model, force_py=True)
    state = model.index(1, 0)
    assert state.data() == "State" and model.index(1, 1).data() == "{2 keys}"
    assert model.rowCount(state) == 2
    pid = model.index(1, 0, state)
    assert pid.data(JsonModel.PathRole) == "State.Pid"
    assert model.index(1, 1, state).data() == "4"
    args = model.index(2, 0)
    assert model.index(0, 0, args).data(JsonModel.PathRole) == "Args[0]"
    assert model.to_json(state) == '{\n  "Status": "running",\n  "Pid": 4\n}'
    assert model.index(4, 1).data() == "true"


def test_edit_model(qtmodeltester: Any) -> None:
    model = EditModel([Column("Name"), Column("Value"), Column("RO", kind="bool")])
    model.set_rows([("A", "1", False), ("B", "2", True)])
    qtmodeltester.check(model, force_py=True)
    assert model.setData(model.index(0, 1), "x")
    assert model.setData(model.index(0, 2), Qt.CheckState.Checked.value,
                         Qt.ItemDataRole.CheckStateRole)
    row = model.add_row(["C"])
    model.remove_rows([1])
    assert model.rows() == [["A", "x", True], ["C", "", False]]
    assert row == 2
    assert model.flags(model.index(0, 2)) & Qt.ItemFlag.ItemIsUserCheckable
