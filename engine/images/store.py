"""Local images: metadata in SQLite, manifests/configs/layers in the blob store.

An image is identified as docker does, by the digest of its config
(``sha256:<config digest>``). Tags and repo digests are names pointing at an
image; a tag given to another image moves, and the image it left stays as an
untagged ("dangling") image. Removing an image drops its metadata first and then
the blobs no other image uses, so a crash in between only leaves unreferenced
blobs behind, never metadata pointing at missing blobs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Sequence

from engine.db import Database
from engine.errors import ImageNotFound, InvalidArgument
from engine.images.blobs import BlobStore, digest_of
from engine.images.mediatypes import OCI_MANIFEST
from engine.images.model import Image, Layer
from engine.images.reference import Reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ImageStore"]

_MIGRATIONS = [
    """
    CREATE TABLE images (
        id TEXT PRIMARY KEY,
        config_digest TEXT NOT NULL,
        manifest_digest TEXT NOT NULL,
        manifest_media_type TEXT NOT NULL,
        created TEXT NOT NULL,
        architecture TEXT NOT NULL,
        os TEXT NOT NULL,
        size INTEGER NOT NULL,
        added_ns INTEGER NOT NULL
    );
    CREATE TABLE image_layers (
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        digest TEXT NOT NULL,
        diff_id TEXT NOT NULL,
        size INTEGER NOT NULL,
        media_type TEXT NOT NULL,
        PRIMARY KEY (image_id, position)
    );
    CREATE INDEX image_layers_digest ON image_layers(digest);
    CREATE INDEX image_layers_diff_id ON image_layers(diff_id);
    CREATE TABLE image_tags (
        ref TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
    );
    CREATE INDEX image_tags_image ON image_tags(image_id);
    CREATE TABLE image_digests (
        ref TEXT NOT NULL,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        PRIMARY KEY (ref, image_id)
    );
    CREATE INDEX image_digests_image ON image_digests(image_id);
    """,
    # A layer's size (its files, as docker counts), by diff_id (engine/images/sizes.py): an image's
    # size is theirs summed, the same whether it was pulled, loaded or imported.
    """
    CREATE TABLE layer_sizes (
        diff_id TEXT PRIMARY KEY,
        size INTEGER NOT NULL
    );
    """,
    # The image a commit or a build step was made on (docker's Parent); pulled, loaded
    # and imported images have none.
    """
    CREATE TABLE image_parents (
        image_id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        parent TEXT NOT NULL
    );
    """,
]

_FULL_ID = r"^sha256:[a-f0-9]{64}$"
_ID_PREFIX = r"^(?:sha256:)?([a-f0-9]{1,64})$"


class ImageStore:
    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs
        db.migrate("images", _MIGRATIONS)
        # Config blobs read, by digest: content-addressed, so never stale; a listing of
        # containers asks for their images' configs on every call.
        self._configs: dict[str, bytes] = {}

    # -- adding and naming --------------------------------------------------------
    def add(self, *, manifest: bytes, config: bytes, layers: list[Layer],
            tags: Sequence[str] = (), repo_digests: Sequence[str] = (),
            parent: str = "") -> Image:
        """Record an image whose layer blobs are already in the blob store.

        Adding an image that exists replaces its manifest and layer blobs (the
        latest source wins) and adds the names; ``parent``: the image it was made on.
        """
        config_doc = _parse_config(config)
        media_type = _manifest_media_type(manifest)
        tag_refs = [_tag_reference(t) for t in tags]
        digest_refs = [_digest_reference(d) for d in repo_digests]
        for layer in layers:
            if not self.blobs.has(layer.digest):
                raise InvalidArgument(f"layer {layer.digest} is not in the blob store; "
                                      "store the layer blobs before the image")
        manifest_digest = self.blobs.put_bytes(manifest)
        config_digest = self.blobs.put_bytes(config)
        image_id = config_digest
        size = self._unpacked_size(layers)
        with self.db.transaction() as conn:
            old = self._blob_refs(conn, image_id)
            conn.execute(
                "INSERT INTO images (id, config_digest, manifest_digest, manifest_media_type, "
                "created, architecture, os, size, added_ns) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, "
                "manifest_media_type = excluded.manifest_media_type, size = excluded.size",
                (image_id, config_digest, manifest_digest, media_type,
                 _text(config_doc.get("created")), _text(config_doc.get("architecture")),
                 _text(config_doc.get("os")), size, time.time_ns()),
            )
            conn.execute("DELETE FROM image_layers WHERE image_id = ?", (image_id,))
            conn.executemany(
                "INSERT INTO image_layers (image_id, position, digest, diff_id, size, "
                "media_type) VALUES (?,?,?,?,?,?)",
                [(image_id, i, la.digest, la.diff_id, la.size, la.media_type)
                 for i, la in enumerate(layers)],
            )
            if parent and parent != image_id:
                conn.execute("INSERT OR REPLACE INTO image_parents (image_id, parent) "
                             "VALUES (?, ?)", (image_id, parent))
            for ref in tag_refs:
                self._set_tag(conn, ref, image_id)
            conn.executemany(
                "INSERT OR IGNORE INTO image_digests (ref, image_id) VALUES (?, ?)",
                [(ref, image_id) for ref in digest_refs],
            )
            orphans = old - self._blob_refs(conn, image_id)
            orphans = {d for d in orphans if not self._blob_in_use(conn, d)}
        for digest in orphans:
            self.blobs.remove(digest)
        return self._load(image_id)

    def tag(self, image_id: str, ref: str) -> None:
        target = _tag_reference(ref)
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone() is None:
                raise ImageNotFound(f"No such image: {image_id}")
            self._set_tag(conn, target, image_id)

    def untag(self, ref: str) -> str:
        """Drop one name (a tag, or a repo digest name@sha256:...); returns its image ID."""
        try:
            parsed = Reference.parse(ref)
        except InvalidArgument:
            raise ImageNotFound(f"No such image: {ref}") from None
        with self.db.transaction() as conn:
            if parsed.digest:
                name = parsed.with_digest(parsed.digest).canonical
                row = conn.execute("SELECT image_id FROM image_digests WHERE ref = ? "
                                   "ORDER BY rowid DESC", (name,)).fetchone()
                if row is None:
                    raise ImageNotFound(f"No such image: {ref}")
                conn.execute("DELETE FROM image_digests WHERE ref = ?", (name,))
            else:
                row = conn.execute("SELECT image_id FROM image_tags WHERE ref = ?",
                                   (parsed.canonical,)).fetchone()
                if row is None:
                    raise ImageNotFound(f"No such image: {ref}")
                conn.execute("DELETE FROM image_tags WHERE ref = ?", (parsed.canonical,))
        return str(row["image_id"])

    def remove(self, image_id: str) -> list[str]:
        """Drop the image, its names and the blobs no other image uses.

        Returns the layer diff_ids that no remaining image uses, base first: the
        unpacked layers the caller may now remove.
        """
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone() is None:
                raise ImageNotFound(f"No such image: {image_id}")
            blobs = self._blob_refs(conn, image_id)
            diff_ids = [r["diff_id"] for r in conn.execute(
                "SELECT diff_id FROM image_layers WHERE image_id = ? ORDER BY position",
                (image_id,))]
            conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
            orphans = {d for d in blobs if not self._blob_in_use(conn, d)}
            unused: list[str] = []
            for diff_id in diff_ids:
                if diff_id in unused:
                    continue
                if conn.execute("SELECT 1 FROM image_layers WHERE diff_id = ? LIMIT 1",
                                (diff_id,)).fetchone() is None:
                    unused.append(diff_id)
            conn.executemany("DELETE FROM layer_sizes WHERE diff_id = ?",
                             [(d,) for d in unused])
        for digest in orphans:
            self.blobs.remove(digest)
        return unused

    # -- reading -----------------------------------------------------------------
    def tags_by_image(self) -> dict[str, list[str]]:
        """Every image's tags, straight from SQLite (no blobs read)."""
        found: dict[str, list[str]] = {
            row["id"]: [] for row in self.db.conn.execute("SELECT id FROM images")}
        for row in self.db.conn.execute("SELECT ref, image_id FROM image_tags"):
            found.setdefault(row["image_id"], []).append(row["ref"])
        return found

    def list(self) -> list[Image]:
        rows = self.db.conn.execute(
            "SELECT id FROM images ORDER BY created DESC, added_ns DESC").fetchall()
        return [self._load(row["id"]) for row in rows]

    def get(self, ref: str) -> Image:
        """Find an image by any name docker accepts.

        A tag in any docker form (busybox, busybox:latest,
        docker.io/library/busybox:latest), a repo digest (busybox@sha256:...),
        the full ID (with or without ``sha256:``) or a unique ID prefix. Names
        win over ID prefixes, as in docker.
        """
        image_id = self._resolve(ref)
        if image_id is None:
            raise ImageNotFound(f"No such image: {ref}")
        return self._load(image_id)

    def manifest(self, image_id: str) -> bytes:
        return self.blobs.read_bytes(self._row(image_id)["manifest_digest"])

    def config(self, image_id: str) -> bytes:
        return self.blobs.read_bytes(self._row(image_id)["config_digest"])

    def manifest_media_type(self, image_id: str) -> str:
        return str(self._row(image_id)["manifest_media_type"])

    def diff_ids(self) -> set[str]:
        """Every layer diff_id some image uses (to find unpacked layers to prune)."""
        return {r["diff_id"] for r in self.db.conn.execute(
            "SELECT DISTINCT diff_id FROM image_layers")}

    def layer_digests(self) -> set[str]:
        """Every layer blob digest some image uses (a pull knows what it will need)."""
        return {r["digest"] for r in self.db.conn.execute(
            "SELECT DISTINCT digest FROM image_layers")}

    # -- sizes (engine/images/sizes.py) -----------------------------------------------
    def unmeasured(self, layers: Sequence[Layer]) -> Sequence[Layer]:
        """The layers whose size is not known yet (one a diff_id)."""
        known = self._known_sizes(layers)
        unique = {layer.diff_id: layer for layer in layers}
        return [layer for diff_id, layer in unique.items() if diff_id not in known]

    def record_sizes(self, sizes: dict[str, int]) -> None:
        with self.db.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO layer_sizes (diff_id, size) VALUES (?, ?)",
                             list(sizes.items()))

    def layer_sizes(self) -> dict[str, int]:
        """Every measured layer's size, by diff_id."""
        return {str(r["diff_id"]): int(r["size"])
                for r in self.db.conn.execute("SELECT diff_id, size FROM layer_sizes")}

    def _known_sizes(self, layers: Sequence[Layer]) -> dict[str, int]:
        found: dict[str, int] = {}
        for layer in layers:
            row = self.db.conn.execute("SELECT size FROM layer_sizes WHERE diff_id = ?",
                                       (layer.diff_id,)).fetchone()
            if row is not None:
                found[layer.diff_id] = int(row["size"])
        return found

    def _unpacked_size(self, layers: Sequence[Layer]) -> int:
        """The layers' sizes summed; measured here if nobody did before."""
        from engine.images.sizes import layer_content_size

        missing = self.unmeasured(layers)
        if missing:
            self.record_sizes({layer.diff_id: layer_content_size(self.blobs, layer.digest)
                               for layer in missing})
        known = self._known_sizes(layers)
        return sum(known[layer.diff_id] for layer in layers)

    # -- internals ----------------------------------------------------------------
    def _resolve(self, ref: str) -> str | None:
        conn = self.db.conn
        if re.match(_FULL_ID, ref):
            row = conn.execute("SELECT id FROM images WHERE id = ?", (ref,)).fetchone()
            return str(row["id"]) if row else None
        try:
            parsed: Reference | None = Reference.parse(ref)
        except InvalidArgument:
            parsed = None
        if parsed is not None and parsed.digest:
            name = parsed.with_digest(parsed.digest).canonical
            row = conn.execute("SELECT image_id FROM image_digests WHERE ref = ? "
                               "ORDER BY rowid DESC LIMIT 1", (name,)).fetchone()
            return str(row["image_id"]) if row else None
        if parsed is not None:
            row = conn.execute("SELECT image_id FROM image_tags WHERE ref = ?",
                               (parsed.canonical,)).fetchone()
            if row is not None:
                return str(row["image_id"])
        prefix = re.match(_ID_PREFIX, ref)
        if prefix is None:
            return None
        rows = conn.execute("SELECT id FROM images WHERE id LIKE ? LIMIT 2",
                            (f"sha256:{prefix.group(1)}%",)).fetchall()
        if len(rows) > 1:
            raise ImageNotFound(f"No such image: {ref} (more than one image ID starts "
                                "with it; give more characters)")
        return str(rows[0]["id"]) if rows else None

    def _row(self, image_id: str) -> sqlite3.Row:
        row = self.db.conn.execute("SELECT * FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            raise ImageNotFound(f"No such image: {image_id}")
        return row

    def _config_bytes(self, digest: str) -> bytes:
        found = self._configs.get(digest)
        if found is None:
            found = self.blobs.read_bytes(digest)
            if len(self._configs) >= 1024:
                self._configs.clear()
            self._configs[digest] = found
        return found

    def _load(self, image_id: str) -> Image:
        conn = self.db.conn
        row = self._row(image_id)
        layers = [Layer(r["digest"], r["diff_id"], r["size"], r["media_type"])
                  for r in conn.execute("SELECT * FROM image_layers WHERE image_id = ? "
                                        "ORDER BY position", (image_id,))]
        tags = [r["ref"] for r in conn.execute(
            "SELECT ref FROM image_tags WHERE image_id = ? ORDER BY rowid", (image_id,))]
        digests = [r["ref"] for r in conn.execute(
            "SELECT ref FROM image_digests WHERE image_id = ? ORDER BY rowid", (image_id,))]
        config = _parse_config(self._config_bytes(row["config_digest"]))
        parent = conn.execute(  # one that was removed since is no one's parent any more
            "SELECT p.parent FROM image_parents p JOIN images i ON i.id = p.parent "
            "WHERE p.image_id = ?", (image_id,)).fetchone()
        return Image(
            id=row["id"], repo_tags=tags, repo_digests=digests, created=row["created"],
            size=row["size"], architecture=row["architecture"], os=row["os"],
            config=config, layers=layers, manifest_digest=row["manifest_digest"],
            parent=str(parent["parent"]) if parent else "",
        )

    @staticmethod
    def _set_tag(conn: sqlite3.Connection, ref: str, image_id: str) -> None:
        # Delete then insert, so rowid order is the order the image got its names.
        row = conn.execute("SELECT image_id FROM image_tags WHERE ref = ?", (ref,)).fetchone()
        if row is not None and row["image_id"] == image_id:
            return
        conn.execute("DELETE FROM image_tags WHERE ref = ?", (ref,))
        conn.execute("INSERT INTO image_tags (ref, image_id) VALUES (?, ?)", (ref, image_id))

    @staticmethod
    def _blob_refs(conn: sqlite3.Connection, image_id: str) -> set[str]:
        found: set[str] = set()
        row = conn.execute("SELECT manifest_digest, config_digest FROM images WHERE id = ?",
                           (image_id,)).fetchone()
        if row is not None:
            found.update((row["manifest_digest"], row["config_digest"]))
        found.update(r["digest"] for r in conn.execute(
            "SELECT digest FROM image_layers WHERE image_id = ?", (image_id,)))
        return found

    @staticmethod
    def _blob_in_use(conn: sqlite3.Connection, digest: str) -> bool:
        return any(conn.execute(sql, (digest,)).fetchone() is not None for sql in (
            "SELECT 1 FROM images WHERE manifest_digest = ? LIMIT 1",
            "SELECT 1 FROM images WHERE config_digest = ? LIMIT 1",
            "SELECT 1 FROM image_layers WHERE digest = ? LIMIT 1",
        ))


def _parse_config(config: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(config)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"image config {digest_of(config)} is not valid JSON: {e}") \
            from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"image config {digest_of(config)} is not a JSON object")
    return doc


def _manifest_media_type(manifest: bytes) -> str:
    try:
        doc = json.loads(manifest)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"image manifest {digest_of(manifest)} is not valid JSON: {e}") \
            from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"image manifest {digest_of(manifest)} is not a JSON object")
    media_type = doc.get("mediaType")
    return media_type if isinstance(media_type, str) and media_type else OCI_MANIFEST


def _tag_reference(text: str) -> str:
    ref = Reference.parse(text)
    if ref.digest:
        raise InvalidArgument(f"cannot use {text!r} as a tag: it names a digest")
    return ref.canonical


def _digest_reference(text: str) -> str:
    ref = Reference.parse(text)
    if not ref.digest:
        raise InvalidArgument(f"{text!r} is not a repo digest (name@sha256:...)")
    return ref.with_digest(ref.digest).canonical


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
