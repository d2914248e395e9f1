"""Environment lists (``KEY=VALUE``, or a bare ``KEY``) merged as Docker merges them.

One rule for the image's variables under a container's (engine/containers/imageconfig.py)
and for the container's under an exec's (engine/helper/containers/execs.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import InvalidArgument

__all__ = ["merge_env"]


def merge_env(image_env: Sequence[str], overrides: Sequence[str]) -> list[str]:
    """The image's variables with the container's over them, key by key, in first-seen order."""
    merged: dict[str, str] = {}
    for item in [*image_env, *overrides]:
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid environment variable: {item!r}")
        merged[key] = f"{key}={value}" if sep else key
    return list(merged.values())
