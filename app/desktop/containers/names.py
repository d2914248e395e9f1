"""Names for new containers: ``busybox``, ``busybox-2``, ... from the image reference."""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["base_name", "generate_name"]

_INVALID = re.compile(r"[^a-zA-Z0-9_.-]+")


def base_name(ref: str) -> str:
    """The repository's last path component without tag or digest, as a valid name."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        last = last.split(":", 1)[0]
    last = _INVALID.sub("-", last).strip("-_.")
    return last or "container"


def generate_name(ref: str, taken: Collection[str]) -> str:
    """The first free of ``base``, ``base-2``, ``base-3``, ..."""
    base = base_name(ref)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
