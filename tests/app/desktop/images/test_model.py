"""The local images model against qtmodeltester: a row a tag, and who uses each."""

from __future__ import annotations

from typing import Any

from app.desktop.images.model import ImageModel
from tests.app.desktop.samples import BUSYBOX_ID, NGINX_ID, fleet, image


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
