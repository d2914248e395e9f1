"""``docker history``: the build steps of an image, newest first, each with its layer's size.

The steps come from the image config's ``history``; each step that made a
layer (not ``empty_layer``) is matched, in order, with the next layer of
``rootfs.diff_ids``, and shows that layer's size (as the image's
SIZE counts it, engine/images/sizes.py). The newest step carries the image's
ID; older ones show ``<missing>``, as docker shows steps that are no image of
their own in the local store.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import InvalidArgument
from engine.images.model import Image

__all__ = ["HistoryEntry", "image_history"]

MISSING = "<missing>"


@dataclass(frozen=True)
class HistoryEntry:
    id: str  # the image ID for the newest step, else "<missing>"
    created: str  # RFC 3339 as the config has it; "" if it says nothing
    created_by: str
    comment: str
    size: int  # bytes of the layer the step made; 0 for an empty layer
    empty_layer: bool
    tags: list[str]  # the image's tags, on the newest step


def image_history(image: Image, layer_sizes: dict[str, int]) -> list[HistoryEntry]:
    """The steps of ``image``, newest first; ``layer_sizes`` by diff_id."""
    steps = image.config.get("history") or []
    if not isinstance(steps, list):
        steps = []
    diff_ids = list(image.config.get("rootfs", {}).get("diff_ids") or [])
    entries: list[HistoryEntry] = []
    layer = 0
    for step in steps:
        if not isinstance(step, dict):
            continue
        empty = bool(step.get("empty_layer"))
        size = 0
        if not empty:
            if layer >= len(diff_ids):
                raise InvalidArgument(f"the image {image.short_id} is damaged: its history "
                                      "names more layers than its config has")
            size = layer_sizes.get(diff_ids[layer], 0)
            layer += 1
        entries.append(HistoryEntry(MISSING, str(step.get("created") or ""),
                                    str(step.get("created_by") or ""),
                                    str(step.get("comment") or ""), size, empty, []))
    entries.reverse()
    if entries:
        newest = entries[0]
        entries[0] = HistoryEntry(image.id, newest.created, newest.created_by,
                                  newest.comment, newest.size, newest.empty_layer,
                                  list(image.repo_tags))
    return entries
