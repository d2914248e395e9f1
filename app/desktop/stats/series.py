"""A container's samples as the charts draw them: bounded columns, counters as rates.

The engine reports cumulative counters (bytes received, bytes read); charts
show rates, computed between consecutive samples. A gap (the app was closed,
the container stopped) breaks the lines with NaN instead of drawing a slope
across it, and a counter that went down (a restart) does not become a
negative rate. No Qt here.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

from engine import Stats

__all__ = ["GAP_SECONDS", "StatsSeries"]

GAP_SECONDS = 5.0
NAN = math.nan


class StatsSeries:
    """Columns of the last ``seconds`` of samples, oldest first."""

    COLUMNS = ("times", "cpu", "memory", "limit", "rx", "tx", "read", "write", "pids")

    def __init__(self, seconds: float = 600.0) -> None:
        self.seconds = seconds
        self.times: deque[float] = deque()
        self.cpu: deque[float] = deque()
        self.memory: deque[float] = deque()
        self.limit: deque[float] = deque()
        self.rx: deque[float] = deque()  # bytes per second
        self.tx: deque[float] = deque()
        self.read: deque[float] = deque()
        self.write: deque[float] = deque()
        self.pids: deque[float] = deque()
        self.last: Stats | None = None

    def __len__(self) -> int:
        return len(self.times)

    def clear(self) -> None:
        for name in self.COLUMNS:
            getattr(self, name).clear()
        self.last = None

    def extend(self, samples: Iterable[Stats]) -> None:
        for sample in samples:
            self.append(sample)

    def append(self, sample: Stats) -> None:
        previous = self.last
        now = sample.time_ns / 1e9
        if previous is not None and sample.time_ns <= previous.time_ns:
            return  # the same sample twice (history and live overlap)
        gap = previous is None or now - previous.time_ns / 1e9 > GAP_SECONDS
        if gap and previous is not None:
            self._add(previous.time_ns / 1e9 + 1.0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN)
        if gap:
            rates = (NAN, NAN, NAN, NAN)
        else:
            assert previous is not None
            seconds = (sample.time_ns - previous.time_ns) / 1e9
            rates = tuple(max(0.0, (new - old) / seconds) for new, old in (
                (sample.net_rx, previous.net_rx), (sample.net_tx, previous.net_tx),
                (sample.block_read, previous.block_read),
                (sample.block_write, previous.block_write)))  # type: ignore[assignment]
        # After a gap the engine has nothing to measure CPU time against and says 0.0:
        # unknown, not idle.
        cpu = NAN if gap and sample.cpu_percent == 0.0 else sample.cpu_percent
        self._add(now, cpu, float(sample.memory_usage),
                  float(sample.memory_limit), *rates, float(sample.pids))
        self.last = sample
        self._trim(now - self.seconds)

    def _add(self, *values: float) -> None:
        for name, value in zip(self.COLUMNS, values, strict=True):
            getattr(self, name).append(value)

    def _trim(self, oldest: float) -> None:
        while self.times and self.times[0] < oldest:
            for name in self.COLUMNS:
                getattr(self, name).popleft()

    def latest(self, column: str) -> float:
        """The newest real value of a column (NaN when there is none)."""
        for value in reversed(getattr(self, column)):
            if not math.isnan(value):
                return float(value)
        return NAN

    def peak(self, column: str) -> float:
        values = [v for v in getattr(self, column) if not math.isnan(v)]
        return max(values) if values else 0.0
