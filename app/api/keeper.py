"""What dockerd does for containers while no client watches: the server's own
follower of the engine's events.

It removes an AutoRemove container once it exited (``docker run --rm -d``
leaves nothing behind) unless a ``wait`` is there to do it after reading the
exit code, remembers the exit codes of the containers it removed (a ``wait``
that arrives late still answers), and tells waiters when a container is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from engine import AUTO_REMOVE_GRACE, Conflict, Engine, InvalidState, NotFound

__all__ = ["Keeper"]

log = logging.getLogger("skiff.api")

_REMEMBERED = 1024


class Keeper:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.exit_codes: OrderedDict[str, int] = OrderedDict()
        self.removers: dict[str, int] = {}  # container id -> waits that remove it
        self._gone: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._removals: set[asyncio.Task[None]] = set()
        #: Called with the ID of each container removed (the server drops its execs).
        self.on_destroy: list[Callable[[str], None]] = []

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        for task in (self._task, *self._removals):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def gone(self, container_id: str) -> asyncio.Event:
        """Set once the container is removed (by anyone)."""
        return self._gone.setdefault(container_id, asyncio.Event())

    def forget(self, container_id: str) -> None:
        self._gone.pop(container_id, None)

    def remember(self, container_id: str, code: int) -> None:
        self.exit_codes[container_id] = code
        while len(self.exit_codes) > _REMEMBERED:
            self.exit_codes.popitem(last=False)

    async def _follow(self) -> None:
        while True:
            try:
                async for event in self.engine.events.stream(since_ns=time.time_ns()):
                    if event.type == "container":
                        await self._seen(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("following the engine's events failed; following again")
                await asyncio.sleep(1.0)

    async def _seen(self, event: Any) -> None:
        if event.action == "destroy":
            for forget in self.on_destroy:
                forget(event.id)
            waited = self._gone.pop(event.id, None)
            if waited is not None:
                waited.set()
            return
        if event.action != "die" or self.removers.get(event.id):
            return
        try:
            container = await self.engine.containers.get(event.id)
        except NotFound:
            return
        if not container.config.auto_remove or container.state.running:
            return
        self.remember(container.id, container.state.exit_code)
        task = asyncio.get_running_loop().create_task(self._remove_later(container.id))
        self._removals.add(task)
        task.add_done_callback(self._removals.discard)

    async def _remove_later(self, container_id: str) -> None:
        # The engine's grace: a `skiff run --rm` beside this server reads the exit
        # code and output first, then removes the container itself.
        await asyncio.sleep(AUTO_REMOVE_GRACE)
        with contextlib.suppress(NotFound, InvalidState, Conflict):
            await self.engine.containers.remove(container_id, force=False)
