"""Images as the Docker Engine API shows them: list entries, history, filters.

Pure functions over the engine's ``Image`` and ``HistoryEntry``; the route
module (app/api/routes/images.py) fetches, these shape. Names are docker's
familiar ones (``busybox:latest``, ``127.0.0.1:5000/app:1``), times are Unix
seconds where the API has integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.api.filters import Filters
from engine import familiar, parse_time, split_familiar

__all__ = ["IMAGE_FILTERS", "filter_images", "history_json", "image_summary", "unix_time"]

IMAGE_FILTERS = ("dangling", "label", "label!", "reference", "before", "since", "until")


def unix_time(text: str) -> int:
    """Seconds since the epoch of an RFC 3339 time; 0 if there is none."""
    if not text:
        return 0
    try:
        return parse_time(text) // 1_000_000_000
    except ValueError:
        return 0


def image_summary(image: Any, *, containers: int = -1, shared_size: int = -1,
                  virtual_size: bool = False) -> dict[str, Any]:
    """One entry of ``GET /images/json`` (and of ``system/df``'s Images)."""
    labels = image.run_config.get("Labels") or {}
    entry: dict[str, Any] = {
        "Id": image.id,
        "ParentId": "",
        "RepoTags": [familiar(t) for t in image.repo_tags],
        "RepoDigests": [familiar(d) for d in image.repo_digests],
        "Created": unix_time(image.created),
        "Size": image.size,
        "SharedSize": shared_size,
        "Labels": labels if isinstance(labels, dict) else {},
        "Containers": containers,
    }
    if virtual_size:  # gone from API 1.44 on
        entry["VirtualSize"] = image.size
    return entry


def _names(image: Any) -> list[str]:
    names = []
    for tag in image.repo_tags:
        names.append(familiar(tag))
        names.append(split_familiar(tag)[0])
    return names


def filter_images(images: Sequence[Any], filters: Filters,
                  resolve: Any = None) -> list[Any]:
    """What ``filters`` keeps of ``images``; ``resolve(ref)`` finds the image that
    ``before``/``since`` name (raising the engine's ImageNotFound)."""
    dangling = filters.boolean("dangling")
    kept = []
    before = [resolve(ref) for ref in filters.get("before")] if resolve else []
    since = [resolve(ref) for ref in filters.get("since")] if resolve else []
    for image in images:
        if dangling is not None and (not image.repo_tags) != dangling:
            continue
        labels = image.run_config.get("Labels") or {}
        if not filters.labels_match(labels) or not filters.labels_absent(labels):
            continue
        if not filters.any_matches("reference", _names(image), glob=True):
            continue
        created = unix_time(image.created)
        if any(created >= unix_time(other.created) for other in before):
            continue
        if any(created <= unix_time(other.created) for other in since):
            continue
        if any(created >= _until(value) for value in filters.get("until")):
            continue
        kept.append(image)
    return kept


def _until(value: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        return unix_time(value) or (1 << 62)


def history_json(entries: Sequence[Any]) -> list[dict[str, Any]]:
    """``GET /images/{name}/history``: newest step first."""
    return [{"Id": e.id, "Created": unix_time(e.created), "CreatedBy": e.created_by,
             "Tags": [familiar(t) for t in e.tags] or None, "Size": e.size,
             "Comment": e.comment} for e in entries]
