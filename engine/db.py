"""The engine's SQLite database: one file, WAL mode, versioned migrations.

Each store owns its tables: it names a component and the ordered list of SQL
steps that build them, and ``migrate`` applies the steps it has not applied
yet. A step never changes once released; new needs append new steps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from engine.errors import DamagedState

__all__ = ["Database"]


class Database:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # The engine runs SQL on its event loop thread only; queries are short.
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None,
                                    check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        with self.reading():
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A damaged file becomes one sentence naming it and the way out; nothing
        here rewrites it, so the evidence stays for whoever wants to recover it."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            raise DamagedState(
                f"Skiff's database {self.path} is damaged ({exc}). It was left as it is: "
                f"move it aside (mv {self.path} {self.path}.broken) and Skiff starts with "
                "an empty one; running containers keep running") from None

    def migrate(self, component: str, steps: Sequence[str]) -> None:
        """Apply the steps of ``component`` that this database has not seen."""
        with self.reading(), self.transaction() as conn:
            row = conn.execute(
                "SELECT version FROM schema_version WHERE component = ?", (component,)
            ).fetchone()
            done = row["version"] if row else 0
            for step in steps[done:]:
                for statement in _split(step):
                    conn.execute(statement)
            if len(steps) != done:
                conn.execute(
                    "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, len(steps)),
                )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: writers in other processes wait, never interleave."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
