"""The build cache: which image a step made from which parent, under which key.

Every step of a build ends in an image of the store (as Docker's classic builder
makes them): a key (the parent image, the instruction text, the build args in
scope and, for COPY and ADD, the digest of the files it copies) names it here, so
the next build with the same key reuses it instead of running the step. A row
also records the parent: an untagged image that is the parent of another built
image is an intermediate one, which ``images`` hides and ``image prune`` removes
once nothing is built on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from engine.db import Database
from engine.images.blobs import sha256
from engine.images.model import Image

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["BuildCache", "step_key"]

_MIGRATIONS = [
    """
    CREATE TABLE build_cache (
        key TEXT PRIMARY KEY,
        parent TEXT NOT NULL,
        image_id TEXT NOT NULL,
        created_ns INTEGER NOT NULL
    );
    CREATE INDEX build_cache_parent ON build_cache(parent);
    CREATE INDEX build_cache_image ON build_cache(image_id);
    """,
]


# Bumped when what a step makes changes (its history words, a directory's owner), so
# no build reuses what an older Skiff made differently.
_KEY_VERSION = "2"


def step_key(parent: str, instruction: str, args: Iterable[tuple[str, str]] = (),
             content: str = "") -> str:
    digest = sha256()
    digest.update(f"{_KEY_VERSION}\n{parent}\n{instruction}\n".encode())
    for name, value in sorted(args):
        digest.update(f"{name}={value}\0".encode())
    digest.update(f"\n{content}".encode())
    return "sha256:" + digest.hexdigest()


class BuildCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("build_cache", _MIGRATIONS)

    def lookup(self, key: str) -> str | None:
        with self.db.reading():
            row = self.db.conn.execute("SELECT image_id FROM build_cache WHERE key = ?",
                                       (key,)).fetchone()
        return str(row["image_id"]) if row else None

    def record(self, key: str, parent: str, image_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO build_cache (key, parent, image_id, created_ns) "
                         "VALUES (?,?,?,?) ON CONFLICT(key) DO UPDATE SET "
                         "image_id = excluded.image_id, parent = excluded.parent, "
                         "created_ns = excluded.created_ns",
                         (key, parent, image_id, time.time_ns()))

    def forget(self, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM build_cache WHERE key = ?", (key,))

    def parents(self, existing: set[str]) -> set[str]:
        """The images some existing built image was made from."""
        with self.db.reading():
            rows = self.db.conn.execute("SELECT parent, image_id FROM build_cache").fetchall()
        return {str(r["parent"]) for r in rows if str(r["image_id"]) in existing
                and str(r["image_id"]) != str(r["parent"])}

    def built(self) -> set[str]:
        """Every image a build step made."""
        with self.db.reading():
            rows = self.db.conn.execute("SELECT DISTINCT image_id FROM build_cache").fetchall()
        return {str(r["image_id"]) for r in rows}

    def parent_of(self, image_id: str) -> str | None:
        with self.db.reading():
            row = self.db.conn.execute("SELECT parent FROM build_cache WHERE image_id = ? "
                                       "ORDER BY created_ns DESC LIMIT 1",
                                       (image_id,)).fetchone()
        return str(row["parent"]) if row else None

    def intermediate(self, images: Iterable[Image]) -> set[str]:
        """Untagged images another existing image was built on: a build's intermediate
        steps, which ``images`` hides (``images -a`` shows) and prune keeps while used."""
        listed = list(images)
        parents = self.parents({i.id for i in listed})
        return {i.id for i in listed if not i.repo_tags and i.id in parents}

    def history_ids(self, store: Any, image: Image, entries: list[Any]) -> list[Any]:
        """``docker history`` entries (newest first) with the ID of each step a build made
        an image of, found up the chain of parents, as the classic builder shows them."""
        import dataclasses

        from engine.errors import ImageNotFound

        by_length: dict[int, str] = {}
        current: str | None = image.id
        while current and current.startswith("sha256:") and len(by_length) < 1000:
            try:
                found = store.get(current)
            except ImageNotFound:
                break
            by_length.setdefault(len(found.config.get("history") or []), found.id)
            current = self.parent_of(found.id)
        total = len(entries)
        result = []
        for position, entry in enumerate(entries):
            ident = by_length.get(total - position)
            result.append(dataclasses.replace(entry, id=ident) if ident and position else entry)
        return result

    def drop_images(self, image_ids: Iterable[str]) -> None:
        ids = list(image_ids)
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM build_cache WHERE image_id = ?",
                             [(i,) for i in ids])
