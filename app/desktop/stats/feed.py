"""One stream of samples, once a second, for the containers the user looks at.

The engine records what it samples (``record=True``) in its bounded SQLite
history, so charts survive switching containers and restarting the app. The
feed follows the selected container and keeps following the last few ones
that were selected while they run, so coming back to one shows no hole;
containers nobody looked at cost nothing. Samples arrive as ``sampled``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.desktop.bridge import Bridge, EngineLike
from engine import Container, ContainerNotFound

__all__ = ["StatsFeed"]

log = logging.getLogger(__name__)

KEEP_FOLLOWING = 8
INTERVAL = 1.0


class StatsFeed(QObject):
    sampled = Signal(list)  # list[engine Stats], one per followed running container

    def __init__(self, bridge: Bridge, parent: QObject | None = None,
                 interval: float = INTERVAL) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.interval = interval
        self._recent: list[str] = []  # selected containers, newest last
        self._active: dict[str, bool] = {}
        self._following: tuple[str, ...] = ()
        self._task: asyncio.Task[Any] | None = None
        self._restart = QTimer(self)
        self._restart.setSingleShot(True)
        self._restart.setInterval(0)
        self._restart.timeout.connect(self._apply)
        bridge.containers_listed.connect(self._on_bridge_containers_listed)
        bridge.containers_changed.connect(self._on_bridge_containers_changed)
        bridge.container_removed.connect(self._on_bridge_container_removed)

    def follow(self, container: Container | None) -> None:
        """The selected container: sampled from now on (while it runs)."""
        if container is None:
            return
        self._active[container.id] = container.state.status.is_active
        if container.id in self._recent:
            self._recent.remove(container.id)
        self._recent.append(container.id)
        del self._recent[:-KEEP_FOLLOWING]
        self._restart.start()

    def following(self) -> tuple[str, ...]:
        return self._following

    def stop(self) -> None:
        self._recent.clear()
        self._restart.stop()
        self._cancel()
        self._following = ()

    # -- bridge -----------------------------------------------------------------------------

    def _on_bridge_containers_listed(self, containers: list[Container]) -> None:
        self._active = {c.id: c.state.status.is_active for c in containers}
        self._recent = [cid for cid in self._recent if cid in self._active]
        self._restart.start()

    def _on_bridge_containers_changed(self, containers: list[Container]) -> None:
        for container in containers:
            self._active[container.id] = container.state.status.is_active
        self._restart.start()

    def _on_bridge_container_removed(self, container_id: str) -> None:
        self._active.pop(container_id, None)
        if container_id in self._recent:
            self._recent.remove(container_id)
        self._restart.start()

    # -- the stream ---------------------------------------------------------------------------

    def _apply(self) -> None:
        wanted = tuple(cid for cid in self._recent if self._active.get(cid))
        if wanted == self._following and self._task is not None and not self._task.done():
            return
        self._cancel()
        self._following = wanted
        if wanted:
            self._task = self.bridge.submit("follow the containers' use", self._run,
                                            on_error=self._on_error)

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _run(self, engine: EngineLike) -> None:
        refs = list(self._following)
        try:
            async for samples in engine.stats.stream(refs=refs, interval=self.interval,
                                                     record=True):
                self.sampled.emit(samples)
        except ContainerNotFound:
            log.debug("a followed container went away", exc_info=True)
            for ref in refs:
                try:
                    await engine.containers.get(ref)
                except ContainerNotFound:
                    self._active.pop(ref, None)
            self._following = ()
            self._restart.start()

    def _on_error(self, message: str) -> None:
        log.warning("the stats stream failed: %s", message)
        self._following = ()
