"""The networks a container joins beyond its own (``docker network connect``).

A container's config names one network; docker lets a client connect more,
created or running, and keeps them across restarts (compose puts a service on
each network it lists this way). The engine records each connection here,
in the user's database, and applies them whenever the container starts.
"""

from __future__ import annotations

import json

from engine.db import Database
from engine.frozen import field, frozen

__all__ = ["Attachment", "NetworkAttachments"]

_SCHEMA = [
    """
    CREATE TABLE network_attachments (
        container_id TEXT NOT NULL,
        network TEXT NOT NULL,
        aliases TEXT NOT NULL DEFAULT '[]',
        ip TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (container_id, network)
    )
    """,
    "ALTER TABLE network_attachments ADD COLUMN ip6 TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE network_attachments ADD COLUMN mac TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE network_attachments ADD COLUMN links TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE network_attachments ADD COLUMN link_local_ips TEXT NOT NULL DEFAULT '[]'",
]


@frozen
class Attachment:
    network: str
    aliases: list[str] = field(default_factory=list)
    ip: str = ""
    ip6: str = ""  # on a network with IPv6
    mac: str = ""  # the endpoint's MAC address (lower case, colons); "" derives one
    links: list[str] = field(default_factory=list)  # network-scoped links, "NAME:ALIAS"
    link_local_ips: list[str] = field(default_factory=list)  # more addresses, as asked


class NetworkAttachments:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("network_attachments", _SCHEMA)

    def add(self, container_id: str, attachment: Attachment) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO network_attachments (container_id, network, aliases, ip, ip6, mac, "
                "links, link_local_ips) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(container_id, network) DO UPDATE SET aliases = excluded.aliases, "
                "ip = excluded.ip, ip6 = excluded.ip6, mac = excluded.mac, "
                "links = excluded.links, link_local_ips = excluded.link_local_ips",
                (container_id, attachment.network, json.dumps(attachment.aliases),
                 attachment.ip, attachment.ip6, attachment.mac, json.dumps(attachment.links),
                 json.dumps(attachment.link_local_ips)))

    def remove(self, container_id: str, network: str) -> bool:
        with self.db.transaction() as conn:
            gone = conn.execute("DELETE FROM network_attachments WHERE container_id = ? AND "
                                "network = ?", (container_id, network)).rowcount
        return bool(gone)

    def of(self, container_id: str) -> list[Attachment]:
        rows = self.db.conn.execute(
            "SELECT network, aliases, ip, ip6, mac, links, link_local_ips FROM "
            "network_attachments WHERE container_id = ? ORDER BY rowid",
            (container_id,)).fetchall()
        return [Attachment(row["network"], list(json.loads(row["aliases"])), row["ip"],
                           row["ip6"], row["mac"], list(json.loads(row["links"])),
                           list(json.loads(row["link_local_ips"]))) for row in rows]

    def forget(self, container_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM network_attachments WHERE container_id = ?",
                         (container_id,))

    def on_network(self, network: str) -> list[str]:
        """The containers attached to ``network`` (it cannot go while they are)."""
        rows = self.db.conn.execute("SELECT container_id FROM network_attachments WHERE "
                                    "network = ?", (network,)).fetchall()
        return [row["container_id"] for row in rows]
