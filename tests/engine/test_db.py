"""engine.db's migrations: each component's steps applied once, whichever Skiff opens
the database, an older one included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.db import Database
from engine.errors import DamagedState

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


def test_a_transaction_commits_or_rolls_back_whole(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "skiff.db"))  # a path as engine/paths.py gives it
    db.migrate("things", STEPS)
    with db.transaction() as conn:
        conn.execute("INSERT INTO things (name) VALUES ('kept')")
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
        conn.execute("INSERT INTO things (name) VALUES ('gone')")
        conn.execute("INSERT INTO things (name) VALUES ('kept')")  # taken: all of it goes
    assert [row["name"] for row in db.conn.execute("SELECT name FROM things")] == ["kept"]
    db.close()


def test_reading_names_a_damaged_database_and_lets_a_lock_through(tmp_path: Path) -> None:
    db = Database(tmp_path / "skiff.db")
    damaged = r"skiff\.db is damaged \(file is not a database\)"
    with pytest.raises(DamagedState, match=damaged), db.reading():
        raise sqlite3.DatabaseError("file is not a database")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"), db.reading():
        raise sqlite3.OperationalError("database is locked")
    with pytest.raises(ValueError, match="not ours"), db.reading():
        raise ValueError("not ours")
    db.close()
