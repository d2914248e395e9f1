"""Containers' creation-time records in SQLite; runtime state lives with the monitor."""

from __future__ import annotations

import json
import sqlite3

from engine.containers.config import ContainerConfig
from engine.db import Database, is_disk_full
from engine.errors import ContainerNotFound, DamagedState, DiskFull, NameInUse
from engine.frozen import replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.wire.containerspec import ContainerSpec

__all__ = ["ContainerRecord", "ContainerStore"]

_SCHEMA = [
    """
    CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL,
        config TEXT NOT NULL,
        image_id TEXT NOT NULL,
        spec TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX containers_image ON containers(image_id)
    """,
    # Set before the helper is asked to remove it: a remove killed midway is
    # finished by the next engine, never mistaken for a container to start.
    "ALTER TABLE containers ADD COLUMN removing INTEGER NOT NULL DEFAULT 0",
]


# The parsed config and spec of each row's JSON texts, by container: a list of many
# containers (every docker ps, every API request for the list) would parse them all
# again. Records share what they parsed: nobody changes a record's config or spec in
# place (a change is a new config, saved). Both are read when first asked for:
# listing containers never needs the spec, nor `ps` the config of a created one
# (parsing 200 was ~6 of its 22 ms of work).
_PARSED: dict[str, tuple[str, ContainerConfig]] = {}
_SPECS: dict[str, tuple[str, ContainerSpec]] = {}
_PARSED_KEPT = 4096


class ContainerRecord:
    __slots__ = ("_config", "_config_text", "_spec_text", "created", "id", "name", "removing")

    def __init__(self, row: sqlite3.Row) -> None:
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.created: str = row["created"]
        self._config_text: str = row["config"]
        self._config: ContainerConfig | None = None
        self._spec_text: str = row["spec"]
        self.removing = bool(row["removing"])

    @property
    def auto_remove(self) -> bool:
        """Whether it is a --rm container: its config's, read without making the config
        when that was not made yet (ps asks it of every exited container: half the cost)."""
        if self._config is not None:
            return self._config.auto_remove
        return bool(json.loads(self._config_text).get("auto_remove"))

    @property
    def config(self) -> ContainerConfig:
        if self._config is None:
            parsed = _PARSED.get(self.id)
            if parsed is None or parsed[0] != self._config_text:
                if len(_PARSED) >= _PARSED_KEPT:
                    _PARSED.clear()
                parsed = (self._config_text,
                          ContainerConfig.from_json(json.loads(self._config_text)))
                _PARSED[self.id] = parsed
            self._config = parsed[1]
        return self._config

    @property
    def spec(self) -> ContainerSpec:
        """What the helper was asked to create, of whichever version wrote it
        (engine/containers/storedspec.py); DamagedState when it cannot be read."""
        parsed = _SPECS.get(self.id)
        if parsed is None or parsed[0] != self._spec_text:
            if len(_SPECS) >= _PARSED_KEPT:
                _SPECS.clear()
            from engine.containers.storedspec import read_spec  # see _spec_text

            parsed = (self._spec_text, read_spec(self._spec_text, self.name))
            _SPECS[self.id] = parsed
        return parsed[1]


class ContainerStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("containers", _SCHEMA)

    def add(self, container_id: str, name: str, created: str, config: ContainerConfig,
            spec: ContainerSpec) -> None:
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO containers (id, name, created, config, image_id, spec) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (container_id, name, created, json.dumps(config.to_json()),
                     config.image_id, _spec_text(spec)))
        except sqlite3.IntegrityError:
            raise NameInUse(self._name_conflict(name)) from None

    def _name_conflict(self, name: str) -> str:
        row = self.db.conn.execute("SELECT id FROM containers WHERE name = ?", (name,)).fetchone()
        owner = row["id"] if row else "another container"
        return (f'Conflict. The container name "/{name}" is already in use by container '
                f'"{owner}". You have to remove (or rename) that container to be able to '
                "reuse that name.")

    def names(self) -> set[str]:
        return {row["name"] for row in self.db.conn.execute("SELECT name FROM containers")}

    def all(self) -> list[ContainerRecord]:
        rows = self.db.conn.execute("SELECT * FROM containers ORDER BY created DESC")
        return [ContainerRecord(row) for row in rows]

    def names_by_id(self) -> dict[str, str]:
        return {row["id"]: row["name"]
                for row in self.db.conn.execute("SELECT id, name FROM containers")}

    def ids(self) -> list[str]:
        return [row["id"] for row in self.db.conn.execute("SELECT id FROM containers")]

    def find(self, ref: str) -> ContainerRecord:
        """By full ID, exact name (with or without docker's "/"), or unique ID prefix."""
        ref_name = ref.removeprefix("/")
        conn = self.db.conn
        row = conn.execute("SELECT * FROM containers WHERE id = ? OR name = ?",
                           (ref, ref_name)).fetchone()
        if row is None and ref and all(c in "0123456789abcdef" for c in ref):
            rows = conn.execute("SELECT * FROM containers WHERE id LIKE ?",
                                (ref + "%",)).fetchall()
            if len(rows) > 1:
                raise ContainerNotFound(f"multiple containers found with provided prefix: {ref}")
            row = rows[0] if rows else None
        if row is None:
            raise ContainerNotFound(f"No such container: {ref}")
        return ContainerRecord(row)

    def users_of_image(self, image_id: str) -> list[ContainerRecord]:
        rows = self.db.conn.execute("SELECT * FROM containers WHERE image_id = ?", (image_id,))
        return [ContainerRecord(row) for row in rows]

    def rename(self, container_id: str, name: str) -> None:
        """The new name, in its spec too: the helper, asked again (it lost the container),
        must name it so in its events and on its networks."""
        record = self.find(container_id)
        try:
            text = _spec_text(replace(record.spec, name=name))
        except DamagedState:  # renamed all the same: its rm -f needs no spec
            text = record._spec_text
        try:
            with self.db.transaction() as conn:
                conn.execute("UPDATE containers SET name = ?, spec = ? WHERE id = ?",
                             (name, text, container_id))
        except sqlite3.IntegrityError:
            raise NameInUse(self._name_conflict(name)) from None

    def mark_removing(self, container_id: str) -> None:
        """Best effort: on a full disk the removal goes on unmarked (it frees space)."""
        try:
            with self.db.transaction() as conn:
                conn.execute("UPDATE containers SET removing = 1 WHERE id = ?",
                             (container_id,))
        except DiskFull:
            pass
        except sqlite3.OperationalError as exc:
            if not is_disk_full(exc):
                raise

    def removing(self) -> list[ContainerRecord]:
        rows = self.db.conn.execute("SELECT * FROM containers WHERE removing = 1").fetchall()
        return [ContainerRecord(row) for row in rows]

    def update(self, container_id: str, config: ContainerConfig, spec: ContainerSpec) -> None:
        """A new config and runtime request for the container (docker update)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE containers SET config = ?, spec = ? WHERE id = ?",
                         (json.dumps(config.to_json()), _spec_text(spec), container_id))

    def remove(self, container_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM containers WHERE id = ?", (container_id,))


def _spec_text(spec: ContainerSpec) -> str:
    """storedspec's, imported when a record is written: the spec's module and its
    schema (~10 ms) are not for the commands that only list containers."""
    from engine.containers.storedspec import spec_text

    return spec_text(spec)
