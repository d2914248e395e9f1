"""``engine.events``: every event of this user's journals, replayed and then live.

The engine journals what the user asked for and the monitors journal what
happened to their containers (engine/eventlog.py); this service merges both in
time order and sleeps on the ChangeFeed between looks (engine/changefeed.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from engine import changefeed
from engine.changefeed import ChangeFeed
from engine.containers.model import Event
from engine.containers.statusreader import ACTIVE
from engine.errors import ContainerNotFound
from engine.eventlog import JournalTail, read_events
from engine.services.shared import Shared

__all__ = ["EventService"]


class EventService:
    def __init__(self, shared: Shared) -> None:
        self._s = shared

    async def stream(self, since_ns: int | None = None, until_ns: int | None = None,
                     interval: float = 0.25) -> AsyncIterator[Event]:
        """Every event of this user's journals in time order: from ``since_ns`` (a replay
        of the bounded history), then as they happen; the stream ends at ``until_ns``.

        It sleeps until the ChangeFeed says a journal may have grown (at most one look
        per ``interval``, so a burst costs one), every ``interval`` when it cannot
        watch everything, and every SAFETY_LOOK seconds regardless. A monitor killed
        before it could journal its container's end is heard through its pidfd; that
        die is told to the followers there are, not journaled.
        """
        s = self._s
        journals = s.journals()
        with s.change_feed() as feed:
            tails = [JournalTail(path) for path in journals]
            try:
                replayed: set[tuple[int, str, str, str]] = set()
                if since_ns is not None:
                    history = sorted((r for path in journals
                                      for r in read_events(path, since_ns, until_ns)),
                                     key=lambda r: r["t"])
                    for record in history:
                        replayed.add((record["t"], record["type"], record["action"],
                                      record["id"]))
                        yield self._event(record)
                looked = time.monotonic()
                while until_ns is None or time.time_ns() <= until_ns:
                    feed.follow(self._active_monitor_pids())
                    pause = changefeed.SAFETY_LOOK if feed.complete else interval
                    if until_ns is not None:
                        pause = min(pause, max(0.0, (until_ns - time.time_ns()) / 1e9))
                    await feed.wait(pause)
                    delay = looked + interval - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    feed.clear()  # what woke it until now is in this look
                    exited = feed.take_exited()
                    for pid in exited:
                        s.status.forget_monitor(pid)
                    records = self._look(tails)
                    looked = time.monotonic()
                    records += self._unrecorded_deaths(exited, records)
                    for record in sorted(records, key=lambda r: r["t"]):
                        key = (record["t"], record["type"], record["action"], record["id"])
                        if key in replayed:
                            continue  # appended while the history was read
                        if until_ns is not None and record["t"] > until_ns:
                            return
                        yield self._event(record, live=True)
                    replayed.clear()
            finally:
                for tail in tails:
                    tail.close()

    def change_feed(self) -> ChangeFeed:
        """A watch on whatever changes this user's containers, images, networks and
        volumes (the engine's database and journal, the helper's announcements): its
        ``look()`` moves once any may have changed. Used on one loop; close it."""
        return self._s.change_feed()

    def _look(self, tails: list[JournalTail]) -> list[dict[str, Any]]:
        return [record for tail in tails for record in tail.read()]

    def _active_monitor_pids(self) -> list[int]:
        return self._s.status.active_monitor_pids(self._s.container_store.ids())

    def _event(self, record: dict[str, Any], live: bool = False) -> Event:
        """``live``: as it happens, a container is named by its name now (a monitor
        journals the name it started with, which a rename since then changed)."""
        attributes = dict(record["attrs"])
        if record["type"] == "container" and (live or not attributes.get("image")):
            try:
                found = self._s.container_store.find(record["id"])
            except ContainerNotFound:
                pass
            else:
                attributes.setdefault("image", found.config.image)
                if not attributes["image"]:
                    attributes["image"] = found.config.image
                if live and record["action"] != "rename":
                    attributes["name"] = found.name
        return Event(record["type"], record["action"], record["id"], record["t"], attributes)

    def _unrecorded_deaths(self, exited: set[int], journaled: list[dict[str, Any]]
                           ) -> list[dict[str, Any]]:
        """Containers whose monitor died still "running" in their status file."""
        if not exited:
            return []
        s = self._s
        died = {r["id"] for r in journaled if r["action"] == "die"}
        found = []
        for container_id in s.container_store.ids():
            status = s.status.status(container_id)
            if status is None or status.monitor_pid not in exited or container_id in died \
                    or status.status not in ACTIVE:
                continue
            state = s.status.state(container_id)
            found.append({"t": time.time_ns(), "type": "container", "action": "die",
                          "id": container_id, "attrs": {
                              "name": s.container_store.find(container_id).name,
                              "exitCode": str(state.exit_code)}})
        return found
