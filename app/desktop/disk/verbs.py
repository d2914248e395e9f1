"""What the Disk usage page asks of the engine, through the one bridge.

Narrow seams over today's Engine (``e.system.df()``, ``e.log_path``...): when the
engine's services land, only these lines change.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine import DiskUsage

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge, Pending
    from engine import Engine

__all__ = ["Usage", "builder_prune", "builder_prune_preview", "clear_logs", "container_prune",
           "container_prune_preview", "usage"]


@dataclass(frozen=True)
class Usage:
    disk: DiskUsage
    log_sizes: dict[str, int]


def usage(bridge: Bridge, on_done: Callable[[Usage], None]) -> Pending:
    async def call(e: Engine) -> Usage:
        disk = await e.system.df()
        logs = {}
        for row in disk.containers:
            path = await e.containers.log_path(row.container.id)
            try:
                logs[row.container.id] = os.stat(path).st_size
            except OSError:
                logs[row.container.id] = 0
        return Usage(disk, logs)

    return bridge.submit("measure the disk usage", call, on_done)


def container_prune(bridge: Bridge, on_done: Callable[[Any], None]) -> Pending:
    return bridge.submit("remove the stopped containers", lambda e: e.containers.prune(),
                         on_done)


def container_prune_preview(bridge: Bridge, on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None) -> Pending:
    return bridge.submit("count the stopped containers",
                         lambda e: e.containers.prune(dry_run=True), on_done, on_error)


def clear_logs(bridge: Bridge, ids: list[str], on_done: Callable[[None], None]) -> Pending:
    async def call(e: Engine) -> None:
        for container_id in ids:
            await e.containers.clear_logs(container_id)

    return bridge.submit("delete the containers' logs", call, on_done)


def builder_prune(bridge: Bridge, on_done: Callable[[Any], None]) -> Pending:
    return bridge.submit("remove the build cache", lambda e: e.builder.prune(all=True),
                         on_done)


def builder_prune_preview(bridge: Bridge, on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None) -> Pending:
    return bridge.submit("measure the build cache",
                         lambda e: e.builder.prune(all=True, dry_run=True), on_done, on_error)
