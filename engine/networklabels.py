"""The labels of user-defined networks (``docker network create --label``).

The helper keeps what the kernel needs of a network (bridge, subnet, rules);
labels are the user's own metadata, so they live in the user's database, by
network name. docker compose finds its networks by them
(``com.docker.compose.project``), so they must survive as long as the network.
"""

from __future__ import annotations

import json

from engine.db import Database

__all__ = ["NetworkLabels"]

_SCHEMA = [
    """
    CREATE TABLE network_labels (
        name TEXT PRIMARY KEY,
        labels TEXT NOT NULL DEFAULT '{}'
    )
    """,
]


class NetworkLabels:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("network_labels", _SCHEMA)

    def set(self, name: str, labels: dict[str, str]) -> None:
        """What a network made now carries (a former network's labels go)."""
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO network_labels (name, labels) VALUES (?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET labels = excluded.labels",
                         (name, json.dumps(labels, sort_keys=True)))

    def get(self, name: str) -> dict[str, str]:
        row = self.db.conn.execute("SELECT labels FROM network_labels WHERE name = ?",
                                   (name,)).fetchone()
        return dict(json.loads(row["labels"])) if row is not None else {}

    def remove(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM network_labels WHERE name = ?", (name,))
