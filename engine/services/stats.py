"""``engine.stats``: resource samples of running containers, streamed
(engine/containers/sampler.py takes each), and the bounded history the window
charts (engine/containers/statshistory.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from engine.containers.model import Stats
from engine.containers.sampler import StatsSampler
from engine.containers.statshistory import StatsHistory
from engine.services.containers import ContainerService
from engine.services.shared import Shared

__all__ = ["StatsService"]


class StatsService:
    def __init__(self, shared: Shared, containers: ContainerService) -> None:
        self._s = shared
        self._containers = containers
        self._sampler = StatsSampler(shared.helper.cgroup_parent)

    async def get(self, ref: str) -> Stats:
        """One sample now (the CPU share is since this engine's previous sample)."""
        return self._sampler.sample(await self._containers.get(ref))

    async def stream(self, refs: Sequence[str] | None = None, interval: float = 1.0, *,
                     record: bool = False) -> AsyncIterator[list[Stats]]:
        """Samples of the given (default: all running) containers every interval.

        With ``record``, samples also go to the bounded history (the app does this).
        """
        while True:
            if refs:
                chosen = [await self._containers.get(r) for r in refs]
            else:
                chosen = await self._containers.list()
            samples = [self._sampler.sample(c) for c in chosen]
            self._sampler.keep(c.id for c in chosen)
            if record:
                self._s.stats_store.record(s for s in samples if s.pids or s.memory_usage)
            yield samples
            await asyncio.sleep(interval)

    async def history(self, ref: str, seconds: int = 600) -> list[Stats]:
        """Recorded samples of the last ``seconds``, oldest first."""
        container = await self._containers.get(ref)
        return self._s.stats_store.history(container.id, container.name,
                                           time.time_ns() - seconds * 1_000_000_000)

    async def export(self, ref: str, path: Path, seconds: int = 3600) -> int:
        """Write the recorded history as CSV; the number of samples written."""
        samples = await self.history(ref, seconds)
        StatsHistory.write_csv(samples, path)
        return len(samples)
