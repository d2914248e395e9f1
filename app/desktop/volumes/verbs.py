"""What the Volumes page asks of the engine, through the one bridge.

Narrow seams over today's Engine (``e.volume_create``...): when the engine's
services land, only these lines change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from app.desktop.volumes.data import VolumeEntry, volume_entries

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge, Pending
    from engine import Engine

__all__ = ["create", "listing", "prune", "prune_preview", "remove"]


def listing(bridge: Bridge, on_done: Callable[[list[VolumeEntry]], None]) -> Pending:
    async def call(e: Engine) -> list[VolumeEntry]:
        usage = await e.system.df()
        return volume_entries(usage, [c.container for c in usage.containers])

    return bridge.submit("list the volumes", call, on_done)


def create(bridge: Bridge, name: str, on_done: Callable[[Any], None]) -> Pending:
    return bridge.submit(f"create the volume {name or '(anonymous)'}",
                         lambda e: e.volumes.create(name), on_done)


def remove(bridge: Bridge, names: Sequence[str], force: bool,
           on_done: Callable[[None], None]) -> Pending:
    async def call(e: Engine) -> None:
        for name in names:
            await e.volumes.remove(name, force=force)

    return bridge.submit(f"remove {', '.join(names)}", call, on_done)


def prune(bridge: Bridge, anonymous: bool, on_done: Callable[[Any], None]) -> Pending:
    return bridge.submit("prune volumes", lambda e: e.volumes.prune(anonymous_only=anonymous),
                         on_done)


def prune_preview(bridge: Bridge, anonymous: bool, on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None) -> Pending:
    return bridge.submit("count what a volume prune takes",
                         lambda e: e.volumes.prune(anonymous_only=anonymous, dry_run=True),
                         on_done, on_error)
