"""Clearing a running container's log: what it wrote goes, rotated files too, and
what it writes next is the log, for a reader that was following it as well."""

from __future__ import annotations

import asyncio

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig
from engine.wire.logformat import log_files

pytestmark = pytest.mark.root

COUNTER = "i=0; while true; do echo line$i; i=$((i+1)); sleep 0.02; done"


async def _numbers(engine: Engine, ref: str) -> list[int]:
    return [int(line.data.decode()[4:]) async for line in engine.containers.logs(ref)]


async def test_clearing_the_log_keeps_the_container_and_its_followers_writing(
        engine: Engine) -> None:
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sh", "-c", COUNTER],
        log_options={"max-size": "2k", "max-file": "3"}), name="clear-logs")
    await engine.containers.start(container.id)
    path = await engine.containers.log_path(container.id)
    followed: list[int] = []
    seen = asyncio.Event()
    wanted = [200]

    async def follow() -> None:
        async for line in engine.containers.logs(container.id, follow=True):
            followed.append(int(line.data.decode()[4:]))
            if followed[-1] >= wanted[0]:
                seen.set()

    reader = asyncio.create_task(follow())
    try:
        await asyncio.wait_for(seen.wait(), 60)  # past 2 kB: rotated at least once
        assert len(log_files(path)) > 1
        before = await _numbers(engine, container.id)
        await engine.containers.clear_logs(container.id)
        after = await _numbers(engine, container.id)
        assert not after or min(after) > max(before)  # the rotated files went too
        # the container goes on writing, the follower goes on reading
        wanted[0] = max(before) + 100
        seen.clear()
        await asyncio.wait_for(seen.wait(), 60)
        numbers = await _numbers(engine, container.id)
        assert numbers and min(numbers) > max(before) and numbers == sorted(numbers)
        assert followed[-1] >= wanted[0]
        assert (await engine.containers.get(container.id)).state.running
    finally:
        reader.cancel()
        await engine.containers.remove(container.id, force=True)
