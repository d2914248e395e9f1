"""docker history from an image config: steps newest first, each layer's size on its step."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.images.history import MISSING, image_history
from engine.images.model import Image

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def _image(history: list[dict[str, object]], diff_ids: list[str]) -> Image:
    return Image(id="sha256:" + "f" * 64, repo_tags=["docker.io/library/app:1"],
                 config={"history": history, "rootfs": {"diff_ids": diff_ids}})


def test_steps_newest_first_with_their_layers() -> None:
    image = _image([
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs /"},
        {"created": "2024-01-02T00:00:00Z", "created_by": "ENV A=1", "empty_layer": True},
        {"created": "2024-01-03T00:00:00Z", "created_by": "RUN make", "comment": "built"},
    ], [A, B])
    steps = image_history(image, {A: 700, B: 30})
    assert [(s.id, s.created_by, s.size) for s in steps] == [
        (image.id, "RUN make", 30), (MISSING, "ENV A=1", 0), (MISSING, "ADD rootfs /", 700)]
    assert steps[0].tags == ["docker.io/library/app:1"] and steps[0].comment == "built"
    assert image_history(_image([], [A]), {A: 1}) == []  # no history: no steps, as docker


def test_more_layer_steps_than_layers_is_a_damaged_image() -> None:
    with pytest.raises(InvalidArgument, match="damaged"):
        image_history(_image([{"created_by": "a"}, {"created_by": "b"}], [A]), {})
