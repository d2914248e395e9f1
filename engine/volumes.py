"""Named and anonymous volumes: data that outlives containers.

The engine records volumes in SQLite; their data lives in the helper's root
(``users/<uid>/volumes/<name>/_data``), created and removed by the helper.
"""

from __future__ import annotations

import json
import sqlite3

from engine.db import Database
from engine.errors import VolumeNotFound
from engine.frozen import field, frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Volume", "VolumeStore"]


_SCHEMA = [
    """
    CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        anonymous INTEGER NOT NULL DEFAULT 0,
        mountpoint TEXT NOT NULL DEFAULT ''
    )
    """,
]


@frozen
class Volume:
    name: str
    created: str
    mountpoint: str
    labels: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False

    def docker_json(self) -> dict[str, Any]:
        """docker volume inspect's document."""
        return {"CreatedAt": self.created, "Driver": "local", "Labels": self.labels or None,
                "Mountpoint": self.mountpoint, "Name": self.name, "Options": None,
                "Scope": "local"}


class VolumeStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("volumes", _SCHEMA)

    def add(self, volume: Volume) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO volumes (name, created, labels, anonymous, mountpoint) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING",
                (volume.name, volume.created, json.dumps(volume.labels), int(volume.anonymous),
                 volume.mountpoint))

    def get(self, name: str) -> Volume:
        row = self.db.conn.execute("SELECT * FROM volumes WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise VolumeNotFound(f"get {name}: no such volume")
        return _volume(row)

    def exists(self, name: str) -> bool:
        return self.db.conn.execute("SELECT 1 FROM volumes WHERE name = ?",
                                    (name,)).fetchone() is not None

    def all(self) -> list[Volume]:
        return [_volume(r) for r in self.db.conn.execute("SELECT * FROM volumes ORDER BY name")]

    def remove(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM volumes WHERE name = ?", (name,))


def _volume(row: sqlite3.Row) -> Volume:
    return Volume(row["name"], row["created"], row["mountpoint"], json.loads(row["labels"]),
                  bool(row["anonymous"]))
