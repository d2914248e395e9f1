"""``engine.stats``: resource samples of running containers (cgroups for CPU,
memory, block I/O and pids; the container's /proc/<pid>/net/dev for network),
and the bounded history the window charts (engine/containers/statshistory.py).

Reading needs no privileges: the cgroup files are world-readable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from engine.containers.model import Container, Stats
from engine.containers.statshistory import StatsHistory
from engine.hostfacts import host_memory
from engine.services.containers import ContainerService
from engine.services.shared import Shared

__all__ = ["StatsService"]


class StatsService:
    def __init__(self, shared: Shared, containers: ContainerService) -> None:
        self._s = shared
        self._containers = containers
        self._cpu_samples: dict[str, tuple[int, int]] = {}

    async def get(self, ref: str) -> Stats:
        """One sample now (the CPU share is since this engine's previous sample)."""
        return self._sample(await self._containers.get(ref))

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
            samples = [self._sample(c) for c in chosen]
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

    def _sample(self, container: Container) -> Stats:
        from engine.cgroups import open_cgroup

        now = time.monotonic_ns()
        stats = None
        if container.state.running:
            try:
                stats = open_cgroup(container.id, self._s.helper.cgroup_parent).stats()
            except Exception:
                stats = None
        cpu_ns = stats.cpu_usage_ns if stats else 0
        previous = self._cpu_samples.get(container.id)
        self._cpu_samples[container.id] = (now, cpu_ns)
        percent = 0.0
        if previous and now > previous[0] and cpu_ns >= previous[1]:
            percent = 100.0 * (cpu_ns - previous[1]) / (now - previous[0])
        limit = stats.memory_limit if stats and stats.memory_limit else host_memory()
        rx, tx = _net_counters(container.state.pid) if container.state.running else (0, 0)
        return Stats(container.id, container.name, time.time_ns(), percent,
                     stats.memory_usage if stats else 0, limit, rx, tx,
                     stats.blkio_read if stats else 0, stats.blkio_write if stats else 0,
                     stats.pids if stats else 0)



def _net_counters(pid: int) -> tuple[int, int]:
    """rx/tx bytes of the container's interfaces except loopback, from its netns."""
    rx = tx = 0
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            for line in f.readlines()[2:]:
                name, _, data = line.partition(":")
                if name.strip() == "lo":
                    continue
                fields = data.split()
                rx += int(fields[0])
                tx += int(fields[8])
    except (OSError, ValueError, IndexError):
        pass
    return rx, tx
