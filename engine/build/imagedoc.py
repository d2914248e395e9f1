"""The OCI config and manifest of each image a build step makes.

A step's image is its parent's config with the step's run-config changes, one
more ``history`` entry (``empty_layer`` when the step made no layer) and, when
it made one, one more ``rootfs.diff_ids`` entry and manifest layer.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from engine.images.blobs import digest_of
from engine.images.mediatypes import OCI_CONFIG, OCI_MANIFEST
from engine.images.model import Layer
from engine.wire.logformat import format_time

__all__ = ["DEFAULT_PATH", "encode", "scratch_config", "step_config"]

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def scratch_config(os_name: str, architecture: str, variant: str = "") -> dict[str, Any]:
    """FROM scratch: nothing but the platform and the default PATH (every stage gets it)."""
    doc: dict[str, Any] = {
        "architecture": architecture, "os": os_name,
        "config": {"Env": [DEFAULT_PATH]},
        "rootfs": {"type": "layers", "diff_ids": []}, "history": [],
    }
    if variant:
        doc["variant"] = variant
    return doc


def step_config(parent: dict[str, Any], run_config: dict[str, Any], created_by: str,
                layer: Layer | None, *, now_ns: int | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(parent)
    created = format_time(time.time_ns() if now_ns is None else now_ns)
    doc["created"] = created
    doc["config"] = {k: v for k, v in run_config.items() if v not in (None, [], {}, "")}
    rootfs = doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    rootfs.setdefault("type", "layers")
    entry: dict[str, Any] = {"created": created, "created_by": created_by}
    if layer is None:
        entry["empty_layer"] = True
    else:
        rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), layer.diff_id]
    doc["history"] = [*(doc.get("history") or []), entry]
    return doc


def encode(doc: dict[str, Any], layers: list[Layer]) -> tuple[bytes, bytes]:
    """(manifest, config) bytes."""
    config = json.dumps(doc, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": la.media_type, "digest": la.digest, "size": la.size}
                   for la in layers],
    }
    return json.dumps(manifest, separators=(",", ":")).encode(), config
