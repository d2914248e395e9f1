"""Freezer values: v1 ``freezer.state``, v2 ``cgroup.freeze`` and ``cgroup.events``.

Freezing is asynchronous in both versions: the write starts it, and the
cgroup is frozen only once every task has stopped, which callers poll for.
"""

from __future__ import annotations

from pathlib import Path

from engine.cgroups.files import parse_flat_keyed
from engine.cgroups.plan import Write

__all__ = ["FREEZE_TIMEOUT", "v1_frozen", "v1_write", "v2_frozen", "v2_write"]

FREEZE_TIMEOUT = 10.0  # seconds; a task stuck in the kernel can hold a freeze up

_V1_FROZEN = "FROZEN"
_V1_THAWED = "THAWED"


def v1_write(frozen: bool) -> Write:
    return Write(Path("freezer.state"), _V1_FROZEN if frozen else _V1_THAWED, "freezer")


def v1_frozen(state: str | None) -> bool:
    """FREEZING (still stopping tasks) is not frozen yet."""
    return state is not None and state.strip() == _V1_FROZEN


def v2_write(frozen: bool) -> Write:
    return Write(Path("cgroup.freeze"), "1" if frozen else "0", "freezer")


def v2_frozen(events: str | None) -> bool:
    return events is not None and parse_flat_keyed(events).get("frozen") == 1
