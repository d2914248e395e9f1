"""A container's runtime state and the status machine that owns its transitions."""

from __future__ import annotations

import enum

from engine.frozen import asdict, frozen
from engine.wire.healthstate import HealthState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ContainerState", "Status"]


class Status(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"

    # Each verb asks its predicate before acting; the messages match docker's.
    def can_start(self) -> bool:
        return self in (Status.CREATED, Status.EXITED, Status.DEAD)

    def can_stop(self) -> bool:
        return self in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)

    def can_kill(self) -> bool:
        return self in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)

    def can_pause(self) -> bool:
        return self is Status.RUNNING

    def can_unpause(self) -> bool:
        return self is Status.PAUSED

    def can_exec(self) -> bool:
        return self is Status.RUNNING

    def can_remove(self) -> bool:
        return self in (Status.CREATED, Status.EXITED, Status.DEAD)

    @property
    def is_active(self) -> bool:
        """True while the container has (or is about to have) processes."""
        return self in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


@frozen
class ContainerState:
    status: Status = Status.CREATED
    pid: int = 0
    exit_code: int = 0
    oom_killed: bool = False
    started_at: str = ""  # RFC 3339 with nanoseconds, UTC; "" when never
    finished_at: str = ""
    error: str = ""
    restart_count: int = 0
    stopped_by_user: bool = False
    signal: int = 0  # the signal that killed the init process, 0 if it exited
    health: HealthState | None = None  # with a healthcheck: as its monitor last recorded

    @property
    def running(self) -> bool:
        return self.status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["health"] = self.health.to_docker() if self.health else None
        return data
