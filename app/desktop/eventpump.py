"""The engine's event stream, run off the GUI thread.

``engine.events.stream()`` reads this user's event journals when something woke it
(engine/changefeed.py), and checks which containers' monitors to follow; with
hundreds of containers one look is a few milliseconds of Python, and a burst of
changes costs one every INTERVAL. Even that would be a hitch on the qasync loop, so a
second Engine (same storage, its own SQLite connection) runs the stream on its
own asyncio loop in a thread, and each event is handed to the GUI loop with
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine import Engine

__all__ = ["READY", "EventPump", "Inbox"]

log = logging.getLogger(__name__)

#: Delivered once the stream has its starting point: list everything again then.
READY = "ready"

#: The least time between two of the engine's looks: the first change after
#: a quiet spell shows at once, a burst of them within this.
INTERVAL = 0.5


class EventPump:
    """``deliver(READY)`` runs on the ``target`` loop once the stream has started,
    ``deliver(event)`` for each event, and ``deliver(exc)`` once if the stream fails
    (then the pump stops)."""

    def __init__(self, factory: Callable[[], Engine], target: asyncio.AbstractEventLoop,
                 deliver: Callable[[object], None]) -> None:
        self._factory = factory
        self._target = target
        self._deliver = deliver
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skiff-events", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(5)

    def stop(self) -> None:
        """Ask the thread to end; ``join`` waits for it."""
        self._stopping = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(self._pump())
            self._ready.set()
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._ready.set()
            loop.close()

    def _send(self, item: object) -> None:
        if self._stopping:
            return
        try:
            self._target.call_soon_threadsafe(self._deliver, item)
        except RuntimeError:  # the GUI loop is gone
            self._stopping = True

    async def _pump(self) -> None:
        try:
            engine = self._factory()
            opened = await engine.__aenter__()
            engine = opened if opened is not None else engine
        except Exception as exc:
            self._send(exc)
            return
        try:
            log.info("following the engine's events (a look at most every %s s)", INTERVAL)
            stream = engine.events.stream(interval=INTERVAL).__aiter__()  # no replay
            pending = asyncio.ensure_future(stream.__anext__())
            # One turn of the loop: the stream opens its journals and sleeps.
            # Changes before that make no event, so the receiver lists
            # everything again once it hears READY.
            await asyncio.sleep(0)
            self._send(READY)
            while True:
                try:
                    event = await pending
                except StopAsyncIteration:
                    break
                log.debug("event %s %s %s", event.type, event.action, event.id[:12])
                self._send(event)
                pending = asyncio.ensure_future(stream.__anext__())
            self._send(EOFError("the engine's event stream ended"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("the engine's event stream failed", exc_info=True)
            self._send(exc)
        finally:
            try:
                await engine.__aexit__(None, None, None)
            except Exception:
                log.warning("closing the event stream's engine failed", exc_info=True)


class Inbox:
    """What the event pump hands over, in order (a queue bound to one given loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: collections.deque[object] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: object) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> object:
        while not self._items:
            self._waiter = self._loop.create_future()
            await self._waiter
        return self._items.popleft()
