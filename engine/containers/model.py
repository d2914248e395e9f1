"""What the engine tells its callers about a container."""

from __future__ import annotations

from engine.frozen import frozen

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the annotations only: `skiff logs` needs none of the state's modules
    from engine.containers.config import ContainerConfig
    from engine.containers.state import ContainerState

__all__ = ["Change", "Container", "Event", "LogLine", "ProcessInfo", "Stats"]


@frozen
class Container:
    id: str  # 64 hex characters
    name: str  # without docker's leading slash
    created: str  # RFC 3339 with nanoseconds, UTC
    config: ContainerConfig
    state: ContainerState

    @property
    def short_id(self) -> str:
        return self.id[:12]


@frozen
class LogLine:
    stream: str  # stdout | stderr
    time: str  # RFC 3339 with nanoseconds, UTC
    data: bytes  # without the trailing newline
    partial: bool = False  # the line continues in the next record


@frozen
class Change:
    kind: str  # A (added), C (changed), D (deleted)
    path: str


@frozen
class Event:
    """One thing that happened, as ``docker events`` shows it."""

    type: str  # container | image | network | volume
    action: str  # create, start, die, stop, kill, pause, unpause, destroy, pull, ...
    id: str
    time_ns: int
    attributes: dict[str, str]


@frozen
class Stats:
    """One sample of a container's use, as ``docker stats`` shows it."""

    id: str
    name: str
    time_ns: int
    cpu_percent: float  # 100.0 == one full core
    memory_usage: int
    memory_limit: int  # the limit, or the host's memory when unlimited
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int


@frozen
class ProcessInfo:
    pid: int  # as the host sees it
    user: str
    command: str
    cpu_percent: float
    memory_rss: int
