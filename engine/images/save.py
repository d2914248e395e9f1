"""``docker save``: images into one tar that is both a docker-archive and an OCI layout.

As Docker 25+ writes it: the stored manifest, config and layer blobs go under
``blobs/sha256/``, ``index.json`` names them for OCI tools and
``manifest.json``/``repositories`` for docker-archive tools. Reading such tars
(``docker load``) is engine/images/archive.py's.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from engine.errors import InvalidArgument
from engine.images.blobs import BlobStore
from engine.images.mediatypes import (
    ANNOTATION_IMAGE_NAME,
    ANNOTATION_REF_NAME,
    OCI_INDEX,
    OCI_MANIFEST,
)
from engine.images.model import Image
from engine.images.reference import Reference

__all__ = ["write_archive"]


def write_archive(path: Path, images: Sequence[tuple[Image, Sequence[str]]],
                  blobs: BlobStore) -> None:
    """Write ``images`` (each with the tags to record for it) to the tar ``path``.

    The file is replaced atomically when it is a regular file (or new); a device
    or pipe (``/dev/stdout``) is written in place.
    """
    plan = _plan(images, blobs)
    if path.exists() and not path.is_file():
        try:
            with path.open("wb") as out:
                _write_tar(out, plan, blobs)
        except OSError as e:
            raise InvalidArgument(f"cannot write {path}: {e.strerror}") from None
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise InvalidArgument(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            _write_tar(out, plan, blobs)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        with suppress(OSError):
            os.unlink(tmp)
        raise InvalidArgument(f"cannot write {path}: {e.strerror}") from None
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass
class _Plan:
    blobs: list[str]  # every blob to write, each once
    index: dict[str, Any]
    manifest: list[dict[str, Any]]
    repositories: dict[str, dict[str, str]]


def _plan(images: Sequence[tuple[Image, Sequence[str]]], blobs: BlobStore) -> _Plan:
    order: dict[str, None] = {}
    descriptors: list[dict[str, Any]] = []
    entries: dict[str, dict[str, Any]] = {}
    repositories: dict[str, dict[str, str]] = {}
    for image, tags in images:
        refs = []
        for text in tags:
            ref = Reference.parse(text)
            if ref.digest or not ref.tag:
                raise InvalidArgument(f"cannot save {text!r} as a tag: it names a digest")
            refs.append(ref)
        manifest = blobs.read_bytes(image.manifest_digest)
        doc = json.loads(manifest)
        media_type = doc.get("mediaType") or OCI_MANIFEST
        for layer in image.layers:
            order[layer.digest] = None
        order[image.id] = None
        order[image.manifest_digest] = None
        descriptor = {"mediaType": media_type, "digest": image.manifest_digest,
                      "size": len(manifest)}
        if not refs and image.id not in entries:
            descriptors.append(descriptor)
        for ref in refs:
            descriptors.append({**descriptor, "annotations": {
                ANNOTATION_IMAGE_NAME: ref.canonical, ANNOTATION_REF_NAME: ref.tag}})
        entry = entries.setdefault(image.id, {
            "Config": _blob_path(image.id),
            "RepoTags": None,
            "Layers": [_blob_path(layer.digest) for layer in image.layers],
        })
        for ref in refs:
            entry["RepoTags"] = [*(entry["RepoTags"] or []), ref.familiar]
            if image.layers:
                top = image.layers[-1].digest.removeprefix("sha256:")
                repositories.setdefault(ref.familiar_name, {})[ref.tag] = top
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    return _Plan(list(order), index, list(entries.values()), repositories)


def _write_tar(out: BinaryIO, plan: _Plan, blobs: BlobStore) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("blobs", "blobs/sha256"):
            info = _info(directory, 0)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for digest in plan.blobs:
            with blobs.open(digest) as stream:
                tar.addfile(_info(_blob_path(digest), os.fstat(stream.fileno()).st_size),
                            stream)
        files = {
            "oci-layout": {"imageLayoutVersion": "1.0.0"},
            "index.json": plan.index,
            "manifest.json": plan.manifest,
            "repositories": plan.repositories,
        }
        for name, doc in files.items():
            data = json.dumps(doc, separators=(",", ":")).encode()
            tar.addfile(_info(name, len(data)), io.BytesIO(data))


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    return info


def _blob_path(digest: str) -> str:
    return "blobs/sha256/" + digest.removeprefix("sha256:")
