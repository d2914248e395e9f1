"""Whole answers of the listings and inspects clients poll, kept while nothing changed.

A burst of ``GET /containers/json`` (compose watching a project, a dashboard, a CI
fan-out) asks the same question many times within milliseconds, and dockerd
answers each from memory. Computing the listing costs a look at every
container's records and status (and an inspect of each running one), so the
server keeps each listing's encoded answer with the engine's change stamp
(``ChangeFeed.look``: any write to the engine's database or journal, any
announcement of the helper or a monitor) and gives it again while the stamp
stays, for at most ``MAX_AGE`` seconds (status texts count seconds; a monitor
killed without a word is seen by the engine's half-second look at /proc).

Requests that may change something (any method but GET and HEAD) move the stamp
too when their handler ends, so a client sees its own change at once even before
the helper's announcement arrives. Requests arriving while an answer is being
computed share it: 200 at once compute once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from engine import ChangeFeed, Engine

__all__ = ["MAX_AGE", "Answers"]

#: Seconds a kept answer may be given again.
MAX_AGE = 0.5
#: Answers kept at most (each a listing's query string, or a container inspected).
KEPT = 256

Stamp = tuple[int, int]
T = TypeVar("T")


class Answers:
    def __init__(self) -> None:
        self._feed: ChangeFeed | None = None
        self._own = 0  # requests through this server that may have changed something
        # Answers are shared by every request that gets them: nobody changes one.
        self._kept: dict[str, tuple[Stamp, float, Any]] = {}
        self._computing: dict[tuple[str, Stamp], asyncio.Task[Any]] = {}

    def open(self, engine: Engine) -> None:
        """Watch the engine (on the serving loop)."""
        try:
            self._feed = engine.events.change_feed()
        except OSError:
            self._feed = None  # nothing is kept: every answer is computed

    def close(self) -> None:
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        for task in self._computing.values():
            task.cancel()
        self._kept.clear()

    def changed(self) -> None:
        """A request that may have changed something ended."""
        self._own += 1

    def _stamp(self) -> Stamp | None:
        seen = self._feed.look() if self._feed is not None else None
        return None if seen is None else (seen, self._own)

    async def get(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """The answer to ``key``: kept, being computed, or computed now."""
        stamp = self._stamp()
        if stamp is None:
            return await compute()
        kept = self._kept.get(key)
        if kept is not None and kept[0] == stamp and time.monotonic() - kept[1] < MAX_AGE:
            found: T = kept[2]
            return found
        task = self._computing.get((key, stamp))
        if task is None:
            task = asyncio.get_running_loop().create_task(self._compute(key, stamp, compute))
            self._computing[(key, stamp)] = task
            task.add_done_callback(self._done)
        # A client that leaves cancels its own wait, not the others' answer.
        computed: T = await asyncio.shield(task)
        return computed

    def _done(self, task: asyncio.Task[Any]) -> None:
        for key, running in list(self._computing.items()):
            if running is task:
                del self._computing[key]
        if not task.cancelled():
            task.exception()  # told to whoever waits; no one may be left to hear it

    async def _compute(self, key: str, stamp: Stamp, compute: Callable[[], Awaitable[T]]) -> T:
        started = time.monotonic()
        body = await compute()
        for other in [k for k, kept in self._kept.items() if kept[0] != stamp]:
            del self._kept[other]  # computed before a change: never good again
        self._kept[key] = (stamp, started, body)
        while len(self._kept) > KEPT:
            del self._kept[next(iter(self._kept))]
        return body
