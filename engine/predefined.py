"""When the predefined networks (bridge, host, none) came to be, for ``network inspect``.

User-defined networks carry their creation time in the helper's records. host
and none have no record at all, and the default bridge none until a container
first uses it; docker shows the time its daemon first set them up. Skiff's
counterpart is the first time this engine listed them (or the bridge's record,
if that came first), kept in its database so that the time shown never changes.
"""

from __future__ import annotations

import time

from engine.db import Database
from engine.wire.logformat import format_time

__all__ = ["PredefinedNetworks"]

_MIGRATIONS = [
    """
    CREATE TABLE predefined_networks (
        name TEXT PRIMARY KEY,
        created TEXT NOT NULL
    );
    """,
]


class PredefinedNetworks:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("predefined_networks", _MIGRATIONS)

    def created(self, name: str, known: str = "") -> str:
        """RFC 3339 (UTC, nanoseconds) of the first time ``name`` was asked about, or
        ``known`` (the helper's record of it) if that was the first answer."""
        row = self.db.conn.execute("SELECT created FROM predefined_networks WHERE name = ?",
                                   (name,)).fetchone()
        if row is not None:
            return str(row["created"])
        now = known or format_time(time.time_ns())
        with self.db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO predefined_networks (name, created) "
                         "VALUES (?, ?)", (name, now))
            row = conn.execute("SELECT created FROM predefined_networks WHERE name = ?",
                               (name,)).fetchone()
        return str(row["created"])
