"""One stream of samples, once a second, for the containers the user looks at.

The engine records what it samples (``record=True``) in its bounded SQLite
history, so charts survive switching containers and restarting the app. The
feed follows the selected container and keeps following the last few ones
that were selected while they run, so coming back to one shows no hole;
containers nobody looked at cost nothing. Samples arrive as ``sampled``.
For a second after the first thing it hears of (the window's first listing, which
selects a container) it samples nothing: that first sample (~15-25 ms, the cgroup
modules imported and the sample recorded) would land before the window's first
paint, and a rate needs two samples anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.desktop.bridge import Bridge, EngineLike
from engine import Container, ContainerNotFound

__all__ = ["StatsFeed"]

log = logging.getLogger(__name__)

KEEP_FOLLOWING = 8
INTERVAL = 1.0
#: From the first listing or selection it hears of, the feed's wait for its first sample.
LAUNCH_HOLD = 1.0


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
        self._restart.timeout.connect(self._apply)
        self._hold_until: float | None = None  # see LAUNCH_HOLD
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
        self._apply_soon()

    def _apply_soon(self) -> None:
        """``_apply`` once the loop is free, and not during the launch's hold."""
        if self._hold_until is None:
            self._hold_until = time.monotonic() + LAUNCH_HOLD
        self._restart.start(max(0, round((self._hold_until - time.monotonic()) * 1000)))

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
        self._apply_soon()

    def _on_bridge_containers_changed(self, containers: list[Container]) -> None:
        for container in containers:
            self._active[container.id] = container.state.status.is_active
        self._apply_soon()

    def _on_bridge_container_removed(self, container_id: str) -> None:
        self._active.pop(container_id, None)
        if container_id in self._recent:
            self._recent.remove(container_id)
        self._apply_soon()

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
            self._apply_soon()

    def _on_error(self, message: str) -> None:
        log.warning("the stats stream failed: %s", message)
        self._following = ()
