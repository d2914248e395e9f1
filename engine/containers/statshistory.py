"""A bounded history of stats samples in SQLite, so charts outlive the window."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from engine.containers.model import Stats
from engine.db import Database

__all__ = ["StatsHistory"]

_SCHEMA = [
    """
    CREATE TABLE stats_samples (
        container_id TEXT NOT NULL,
        time_ns INTEGER NOT NULL,
        cpu_percent REAL NOT NULL,
        memory_usage INTEGER NOT NULL,
        memory_limit INTEGER NOT NULL,
        net_rx INTEGER NOT NULL,
        net_tx INTEGER NOT NULL,
        block_read INTEGER NOT NULL,
        block_write INTEGER NOT NULL,
        pids INTEGER NOT NULL
    );
    CREATE INDEX stats_samples_container_time ON stats_samples(container_id, time_ns)
    """,
]

CSV_HEADER = ("time_ns", "cpu_percent", "memory_usage", "memory_limit", "net_rx", "net_tx",
              "block_read", "block_write", "pids")


class StatsHistory:
    """Keeps at most ``keep_seconds`` of samples per container."""

    def __init__(self, db: Database, keep_seconds: int = 3600) -> None:
        self.db = db
        self.keep_ns = keep_seconds * 1_000_000_000
        self._writes = 0
        db.migrate("stats", _SCHEMA)

    def record(self, samples: Iterable[Stats]) -> None:
        rows = [(s.id, s.time_ns, s.cpu_percent, s.memory_usage, s.memory_limit, s.net_rx,
                 s.net_tx, s.block_read, s.block_write, s.pids) for s in samples]
        if not rows:
            return
        with self.db.transaction() as conn:
            conn.executemany("INSERT INTO stats_samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             rows)
            self._writes += 1
            if self._writes % 60 == 1:  # prune now and then, not every second
                newest = max(r[1] for r in rows)
                conn.execute("DELETE FROM stats_samples WHERE time_ns < ?",
                             (newest - self.keep_ns,))

    def history(self, container_id: str, name: str, since_ns: int = 0) -> list[Stats]:
        rows = self.db.conn.execute(
            "SELECT * FROM stats_samples WHERE container_id = ? AND time_ns >= ? "
            "ORDER BY time_ns", (container_id, since_ns))
        return [Stats(container_id, name, r["time_ns"], r["cpu_percent"], r["memory_usage"],
                      r["memory_limit"], r["net_rx"], r["net_tx"], r["block_read"],
                      r["block_write"], r["pids"]) for r in rows]

    def forget(self, container_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM stats_samples WHERE container_id = ?", (container_id,))

    @staticmethod
    def write_csv(samples: list[Stats], path: Path) -> None:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_HEADER)
            for s in samples:
                writer.writerow((s.time_ns, f"{s.cpu_percent:.2f}", s.memory_usage,
                                 s.memory_limit, s.net_rx, s.net_tx, s.block_read,
                                 s.block_write, s.pids))
