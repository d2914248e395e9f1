"""The engine's public face: one object whose coroutines are Skiff's verbs.

The app and the CLI each create one ``Engine`` in their own process. It keeps
metadata in SQLite, talks to registries, and asks the privileged helper for
every step that needs root. Each container verb follows one pattern:
lock → refresh from reality → check the status machine → act → save → emit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from engine.containers.config import ContainerConfig
from engine.containers.model import Change, Container, Event, LogLine, ProcessInfo, Stats
from engine.images.model import Image
from engine.registry.model import PullProgress, PushProgress, SearchResult

__all__ = ["CreateOptions", "Engine"]

# The API contract; bodies land in the following commits.


class CreateOptions(dict[str, Any]):
    """Placeholder type name for container creation options (see ContainerConfig)."""


class Engine:
    """Open with ``async with Engine() as engine:`` (or ``await Engine.open()``)."""

    def __init__(self, root: Path | None = None) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Engine:
        raise NotImplementedError

    async def __aexit__(self, *exc: object) -> None:
        raise NotImplementedError

    # -- images ---------------------------------------------------------------
    async def images(self) -> list[Image]:
        raise NotImplementedError

    async def image(self, ref: str) -> Image:
        """By reference, full or short ID; raises ImageNotFound."""
        raise NotImplementedError

    async def image_inspect(self, ref: str) -> dict[str, Any]:
        raise NotImplementedError

    async def load(self, archive: Path) -> list[Image]:
        raise NotImplementedError

    async def save(self, refs: Sequence[str], archive: Path) -> None:
        raise NotImplementedError

    async def tag(self, source: str, target: str) -> None:
        raise NotImplementedError

    async def remove_image(self, ref: str, force: bool = False) -> list[tuple[str, str]]:
        """Returns docker's ("Untagged"|"Deleted", name) lines."""
        raise NotImplementedError

    # -- registries (engine/registry) -------------------------------------------
    async def pull(self, ref: str, *, platform: str | None = None,
                   progress: Callable[[PullProgress], None] | None = None) -> Image:
        """Pull and unpack; progress gets per-layer PullProgress events."""
        raise NotImplementedError

    async def push(self, ref: str, *,
                   progress: Callable[[PushProgress], None] | None = None) -> str:
        """Returns the pushed manifest digest."""
        raise NotImplementedError

    async def login(self, registry: str, username: str, password: str) -> None:
        """Checks the credentials against the registry, then stores them (0600)."""
        raise NotImplementedError

    async def logout(self, registry: str) -> None:
        raise NotImplementedError

    async def search(self, term: str, limit: int = 25) -> list[SearchResult]:
        raise NotImplementedError

    async def image_tags(self, repository: str) -> list[str]:
        raise NotImplementedError

    async def catalog(self, registry: str, limit: int = 1000) -> list[str]:
        """Repositories a (private) registry lists at /v2/_catalog, as pullable names
        (``127.0.0.1:5000/team/app``); raises RegistryError."""
        raise NotImplementedError

    # -- containers -----------------------------------------------------------
    async def create(self, config: ContainerConfig, name: str = "") -> Container:
        raise NotImplementedError

    async def start(self, ref: str) -> Container:
        raise NotImplementedError

    async def stop(self, ref: str, timeout: int | None = None,
                   signal: str | None = None) -> Container:
        """signal: instead of the container's stop signal (docker stop -s)."""
        raise NotImplementedError

    async def restart(self, ref: str, timeout: int | None = None) -> Container:
        raise NotImplementedError

    async def kill(self, ref: str, signal: str = "SIGKILL") -> Container:
        raise NotImplementedError

    async def pause(self, ref: str) -> Container:
        raise NotImplementedError

    async def unpause(self, ref: str) -> Container:
        raise NotImplementedError

    async def remove(self, ref: str, force: bool = False) -> None:
        raise NotImplementedError

    async def rename(self, ref: str, new_name: str) -> Container:
        raise NotImplementedError

    async def containers(self, all: bool = False) -> list[Container]:
        raise NotImplementedError

    async def container(self, ref: str) -> Container:
        """By name, full or unique short ID; raises ContainerNotFound."""
        raise NotImplementedError

    async def inspect(self, ref: str) -> dict[str, Any]:
        raise NotImplementedError

    async def wait(self, ref: str) -> int:
        raise NotImplementedError

    def logs(self, ref: str, *, follow: bool = False, tail: int | None = None,
             since: str | None = None) -> AsyncIterator[LogLine]:
        raise NotImplementedError

    async def log_path(self, ref: str) -> Path:
        """The container's CRI-format log file (see engine/containers/logformat.py),
        readable by the caller; the desktop log view indexes it directly."""
        raise NotImplementedError

    async def diff(self, ref: str) -> list[Change]:
        raise NotImplementedError

    async def stats(self, ref: str) -> Stats:
        """One sample now (cpu_percent against the previous sample of this engine)."""
        raise NotImplementedError

    def stats_stream(self, refs: Sequence[str] | None = None,
                     interval: float = 1.0) -> AsyncIterator[list[Stats]]:
        """Samples of the given (default: all running) containers every interval."""
        raise NotImplementedError

    async def top(self, ref: str) -> list[ProcessInfo]:
        raise NotImplementedError

    def events(self, since_ns: int | None = None) -> AsyncIterator[Event]:
        raise NotImplementedError

    def _unused(self, _cb: Callable[..., None]) -> None:
        raise NotImplementedError
