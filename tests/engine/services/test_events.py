"""The engine's event stream on real containers: it hears every change at once,
whoever made it, and looks at nothing while nothing happens."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import engine.changefeed as changefeed
from engine import Engine
from engine.containers.config import ContainerConfig
from engine.containers.model import Event
from engine.errors import ContainerStartError

pytestmark = pytest.mark.root


class Follower:
    """A second engine (as the desktop app has) following events into a queue."""

    def __init__(self, watcher: Engine) -> None:
        self.watcher = watcher
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.looks = 0
        events = watcher.events
        take = events._look
        self.opened = asyncio.Event()
        active = events._active_monitor_pids

        def counted(tails: Any) -> list[dict[str, Any]]:
            self.looks += 1
            return take(tails)

        def started() -> list[int]:
            self.opened.set()  # the journals are open: what follows is heard
            return active()

        events._look = counted  # type: ignore[method-assign]
        events._active_monitor_pids = started  # type: ignore[method-assign]
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async def pump() -> None:
            async for event in self.watcher.events.stream():
                await self.queue.put(event)

        self.task = asyncio.create_task(pump())
        await asyncio.wait_for(self.opened.wait(), 10)

    async def expect(self, container_id: str, action: str, within: float = 5.0) -> Event:
        async def find() -> Event:
            while True:
                event = await self.queue.get()
                if event.id == container_id and event.action == action:
                    return event

        return await asyncio.wait_for(find(), within)


@pytest.fixture
async def follower(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Follower]:
    # No safety looks: whatever the test sees arrived through a wake-up.
    monkeypatch.setattr(changefeed, "SAFETY_LOOK", 3600.0)
    await engine.containers.create(ContainerConfig(image="busybox", image_id="",
                                                   cmd=["true"]))  # the
    # helper's first call makes its changes file, which the follower then watches
    async with Engine() as watcher:
        following = Follower(watcher)
        await following.start()
        try:
            yield following
        finally:
            assert following.task is not None
            following.task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await following.task


def config(*cmd: str) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd))


async def test_changes_arrive_through_wake_ups_and_idle_costs_no_look(
        engine: Engine, follower: Follower) -> None:
    container = await engine.containers.create(config("sleep", "60"), name="followed")
    await follower.expect(container.id, "create")
    await engine.containers.start(container.id)
    await follower.expect(container.id, "start")
    await asyncio.sleep(0.3)
    idle = follower.looks
    samples = engine.stats.stream([container.id], interval=0.05, record=True)  # as the app
    for _ in range(5):
        assert (await anext(samples))[0].pids > 0
    await samples.aclose()
    await asyncio.sleep(0.5)
    assert follower.looks == idle, "it looked while nothing happened"

    await engine.containers.pause(container.id)
    await follower.expect(container.id, "pause")
    await engine.containers.unpause(container.id)
    await follower.expect(container.id, "unpause")
    await engine.containers.rename(container.id, "followed-2")
    assert (await follower.expect(container.id, "rename")).attributes["oldName"] == "followed"
    await engine.containers.stop(container.id, timeout=0)
    await follower.expect(container.id, "die")
    await engine.containers.remove(container.id)
    await follower.expect(container.id, "destroy")


async def test_a_process_exiting_on_its_own_is_heard(engine: Engine,
                                                    follower: Follower) -> None:
    container = await engine.containers.create(config("sh", "-c", "sleep 0.5; exit 3"))
    await engine.containers.start(container.id)
    await follower.expect(container.id, "start")
    died = await follower.expect(container.id, "die")
    assert died.attributes["exitCode"] == "3"


async def test_a_killed_monitor_is_heard_at_once(engine: Engine, follower: Follower) -> None:
    container = await engine.containers.create(config("sleep", "60"))
    await engine.containers.start(container.id)
    await follower.expect(container.id, "start")
    status = Path(engine._shared.dir(container.id), "status.json")
    monitor = int(json.loads(status.read_text())["monitor_pid"])
    os.kill(monitor, signal.SIGKILL)  # it can write nothing now: only its pidfd tells
    await follower.expect(container.id, "die")


async def test_wait_hears_a_killed_monitor(engine: Engine,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``wait`` sleeps on the same wake-ups: a monitor killed right after its last
    look (so still "alive" in the engine's half-second cache) ends it at once."""
    monkeypatch.setattr(changefeed, "SAFETY_LOOK", 3600.0)
    container = await engine.containers.create(config("sleep", "60"))
    await engine.containers.start(container.id)
    waiting = asyncio.create_task(engine.containers.wait(container.id))
    await asyncio.sleep(0.05)  # wait has looked and sleeps on the monitor's pidfd
    status = Path(engine._shared.dir(container.id), "status.json")
    os.kill(int(json.loads(status.read_text())["monitor_pid"]), signal.SIGKILL)
    await asyncio.wait_for(waiting, 10)


async def test_exec_events_as_dockerd_sends_them(engine: Engine, follower: Follower) -> None:
    container = await engine.containers.create(config("sleep", "60"))
    await engine.containers.start(container.id)
    session = await engine.containers.exec(container.id, ["sh", "-c", "exit 4"])
    created = await follower.expect(container.id, "exec_create: sh -c exit 4")
    started = await follower.expect(container.id, "exec_start: sh -c exit 4")
    died = await follower.expect(container.id, "exec_die")
    assert created.attributes["execID"] == started.attributes["execID"] == session.id
    assert died.attributes == {**started.attributes, "exitCode": "4"}
    assert await session.wait() == 4
    session.close()
    # nobody waits for this one, and its streams are closed at once: still heard
    unwatched = await engine.containers.exec(container.id, ["sleep", "0.2"])
    unwatched.close()
    assert (await follower.expect(container.id, "exec_die")).attributes["exitCode"] == "0"
    # one that cannot run dies at once with docker's code
    with pytest.raises(ContainerStartError):
        await engine.containers.exec(container.id, ["/no/such/program"])
    await follower.expect(container.id, "exec_start: /no/such/program")
    assert (await follower.expect(container.id, "exec_die")).attributes["exitCode"] == "127"
    await engine.containers.remove(container.id, force=True)
