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
