"""engine.db's migrations: each component's steps applied once, whichever Skiff opens
the database, an older one included."""

from __future__ import annotations

from pathlib import Path

from engine.db import Database

STEPS = ["CREATE TABLE things (name TEXT PRIMARY KEY)",
         "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0"]


def test_an_older_skiff_leaves_a_newer_schema_for_the_newer_one(tmp_path: Path) -> None:
    Database(tmp_path / "skiff.db").migrate("things", STEPS)  # the newer Skiff
    older = Database(tmp_path / "skiff.db")
    older.migrate("things", STEPS[:1])  # an older one, which knows only the first step
    older.conn.execute("INSERT INTO things (name) VALUES ('a')")
    older.conn.commit()
    older.close()
    newer = Database(tmp_path / "skiff.db")
    newer.migrate("things", STEPS)  # applied twice, this failed: duplicate column name
    rows = newer.conn.execute("SELECT name, size FROM things").fetchall()
    assert [tuple(row) for row in rows] == [("a", 0)]
    version = newer.conn.execute(
        "SELECT version FROM schema_version WHERE component = 'things'").fetchone()
    assert tuple(version) == (2,)
    newer.close()


def test_the_last_close_leaves_the_wal_unchecked_and_nothing_lost(tmp_path: Path) -> None:
    """Closing no longer checkpoints (two fsyncs a command): the WAL stays with the
    commits in it, and the next open reads them from there."""
    path = tmp_path / "skiff.db"
    db = Database(path)
    db.migrate("things", STEPS)
    with db.transaction() as conn:
        conn.execute("INSERT INTO things (name) VALUES ('kept')")
    db.close()
    wal = path.with_name("skiff.db-wal")
    assert wal.exists() and wal.stat().st_size > 0
    again = Database(path)
    assert [row["name"] for row in again.conn.execute("SELECT name FROM things")] == ["kept"]
    again.close()
