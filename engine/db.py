"""The engine's SQLite database: one file, WAL mode, versioned migrations.

Each store owns its tables: it names a component and the ordered list of SQL
steps that build them, and ``migrate`` applies the steps it has not applied
yet. A step never changes once released; new needs append new steps.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence

from engine.errors import DamagedState, DiskFull

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

__all__ = ["Database", "is_disk_full"]


class Database:
    """``read_only``: opened on a full disk, where WAL mode cannot make its files; it
    still answers reads (`ps`, `logs`), and the first write tries a normal open again
    (a removal on the helper's side may have freed space meanwhile)."""

    def __init__(self, path: str | PathLike[str]) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.read_only = False
        try:
            self.conn = self._open()
        except DiskFull:
            if not os.path.exists(path):
                raise
            # Immutable: no -wal/-shm to create. Accurate after a clean close, when
            # everything was checkpointed; an open writer keeps those files, and then
            # the normal open above would not have needed new space.
            from pathlib import Path  # its URI, quoted: only on a full disk

            self.conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1",
                                        uri=True, timeout=30, isolation_level=None,
                                        check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.read_only = True

    def _open(self) -> sqlite3.Connection:
        # The engine runs SQL on its event loop thread only; queries are short.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            with self.reading():
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version "
                    "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def reading(self) -> _Reading:
        """A damaged file becomes one sentence naming it and the way out; nothing
        here rewrites it, so the evidence stays for whoever wants to recover it."""
        return _Reading(self)

    def migrate(self, component: str, steps: Sequence[str]) -> None:
        """Apply the steps of ``component`` that this database has not seen.

        Up to date, it only reads: a full disk must not keep `ps` from working. A
        database a newer Skiff migrated further is left as it is: recording this
        version's lower number made the newer one apply its steps twice ("duplicate
        column"), its database then reported damaged."""
        with self.reading():
            row = self.conn.execute("SELECT version FROM schema_version WHERE component = ?",
                                    (component,)).fetchone()
            if row is not None and row["version"] >= len(steps):
                return
        with self.reading(), self.transaction() as conn:
            row = conn.execute(
                "SELECT version FROM schema_version WHERE component = ?", (component,)
            ).fetchone()
            done = row["version"] if row else 0
            for step in steps[done:]:
                for statement in _split(step):
                    conn.execute(statement)
            if len(steps) > done:
                conn.execute(
                    "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, len(steps)),
                )

    def transaction(self) -> _Transaction:
        """BEGIN IMMEDIATE ... COMMIT: writers in other processes wait, never interleave."""
        return _Transaction(self)

    def close(self) -> None:
        self.conn.close()


# The two contexts are classes rather than contextlib.contextmanager generators: only
# this module imported contextlib on the read commands' path (~0.6 ms of a first `ps`).
class _Reading:
    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if not isinstance(exc, sqlite3.DatabaseError):
            return
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return  # as it is: a writer holds the database
        path = self.db.path
        if is_disk_full(exc):
            raise DiskFull(f"Skiff's database {path} cannot be written: the disk is "
                           "full. Free some space (skiff rm, skiff rmi, skiff system "
                           "prune) and try again") from None
        raise DamagedState(
            f"Skiff's database {path} is damaged ({exc}). It was left as it is: "
            f"move it aside (mv {path} {path}.broken) and Skiff starts with "
            "an empty one; running containers keep running") from None


class _Transaction:
    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        db = self.db
        if db.read_only:
            conn = db._open()  # DiskFull while the disk still is
            db.conn.close()
            db.conn, db.read_only = conn, False
        db.conn.execute("BEGIN IMMEDIATE")
        return db.conn

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        self.db.conn.execute("ROLLBACK" if exc is not None else "COMMIT")


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def is_disk_full(exc: sqlite3.Error) -> bool:
    return "disk is full" in str(exc) or "disk I/O error" in str(exc)
