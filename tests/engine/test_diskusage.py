"""system df's figures from images, containers and volumes (pure, no engine)."""

from __future__ import annotations

from engine.containers.config import ContainerConfig, MountSpec
from engine.containers.model import Container
from engine.containers.state import ContainerState, Status
from engine.diskusage import disk_usage
from engine.images.model import Image, Layer
from engine.volumes import Volume

A, B, C = ("sha256:" + c * 64 for c in "abc")


def _image(name: str, *diff_ids: str) -> Image:
    return Image(id=f"sha256:{name * 64}", layers=[Layer(d, d, 1) for d in diff_ids])


def _container(cid: str, image: Image, status: Status, *volumes: str) -> Container:
    config = ContainerConfig(image="x", image_id=image.id,
                             mounts=[MountSpec("volume", "/v", v) for v in volumes])
    return Container(cid, cid, "", config, ContainerState(status))


def test_shared_layers_count_once_and_in_use_images_are_not_reclaimable() -> None:
    base, app, other = _image("1", A), _image("2", A, B), _image("3", C)
    running = _container("r", app, Status.RUNNING, "data")
    stopped = _container("s", base, Status.EXITED, "data", "data")
    usage = disk_usage([base, app, other], {A: 1000, B: 200, C: 50}, [running, stopped],
                       {"r": 10, "s": 30}, [Volume("data", "", "/d"), Volume("spare", "", "/s")],
                       {"data": 7, "spare": 9})
    rows = {u.image.id: u for u in usage.images}
    assert (rows[app.id].size, rows[app.id].shared_size, rows[app.id].unique_size) == (
        1200, 1000, 200)
    assert (rows[base.id].containers, rows[other.id].containers) == (1, 0)
    assert usage.layers_size == 1250
    assert usage.images_reclaimable == 1250 - 200 - 0  # what images in use hold alone stays
    assert usage.containers_reclaimable == 30
    sizes = {c.container.id: (c.size_rw, c.size_root_fs) for c in usage.containers}
    assert sizes == {"r": (10, 1210), "s": (30, 1030)}
    links = {v.volume.name: v.links for v in usage.volumes}
    assert links == {"data": 2, "spare": 0}
    assert usage.volumes_reclaimable == 9
