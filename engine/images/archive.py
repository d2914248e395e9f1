"""Image archives read: ``docker save`` tars and OCI image layouts (``docker load``).

Reading makes one sequential pass over the (maybe compressed) tar (engine/images/
archivescan.py): every file
member streams into the blob store, and only the small index files
(manifest.json, index.json, oci-layout, repositories) are kept in memory. Member
names are only keys for looking things up — nothing is ever extracted to a
path — so a hostile name cannot reach the host filesystem. Blobs named
``blobs/sha256/<hex>`` must hash to that name; docker-archive layers must hash
(uncompressed) to the config's diff_ids. Members the images do not use are
removed again from the blob store if this read added them.

Accepted inputs: docker-archive (``manifest.json`` + config + layer tars, both
the old ``<id>/layer.tar`` shape and Docker 25+'s, which is also an OCI layout)
and OCI image layouts in a tar (``oci-layout`` + ``index.json`` +
``blobs/sha256/...``, nested indexes included: the host platform is chosen).

Writing (``docker save``) is engine/images/save.py's.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import platform
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zstandard

from engine.errors import DigestMismatch, InvalidArgument
from engine.images.archivescan import ZSTD_MAGIC, Contents, NotAnArchive, scan
from engine.images.blobs import BlobStore
from engine.images.mediatypes import (
    ANNOTATION_IMAGE_NAME,
    ANNOTATION_REF_NAME,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
)
from engine.images.model import Layer
from engine.images.reference import Reference

if TYPE_CHECKING:
    from engine.images.blobs import Readable

__all__ = ["ArchiveImage", "read_archive"]

_INDEX_TYPES = {OCI_INDEX, DOCKER_LIST}
_MANIFEST_TYPES = {OCI_MANIFEST, DOCKER_MANIFEST}
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"


@dataclass
class ArchiveImage:
    """One image found in an archive; its config and layer blobs are in the blob store."""

    manifest: bytes
    config: bytes
    layers: list[Layer]
    tags: list[str] = field(default_factory=list)  # canonical: docker.io/library/busybox:latest


# -- reading -----------------------------------------------------------------------


def read_archive(path: Path, blobs: BlobStore) -> list[ArchiveImage]:
    """Store the blobs of every image in ``path`` and describe those images.

    Raises InvalidArgument for anything that is not a docker save or OCI image
    archive and DigestMismatch for content that does not match its digest.
    """
    contents = Contents(path, blobs)
    try:
        scan(path, contents)
        images = _read_images(contents)
    except NotAnArchive as e:
        contents.discard_added(keep=set())
        raise InvalidArgument(f"{path} is not a docker save or OCI image archive: {e}") \
            from None
    except BaseException:
        contents.discard_added(keep=set())
        raise
    used: set[str] = set()
    for image in images:
        used.update((_sha256(image.config), _sha256(image.manifest)))
        used.update(layer.digest for layer in image.layers)
    contents.discard_added(keep=used)
    return images


def _read_images(contents: Contents) -> list[ArchiveImage]:
    metadata = contents.metadata
    if "index.json" in metadata:
        images = _oci_images(contents)
        if "manifest.json" in metadata:
            # Docker 25+ archives: manifest.json may carry names index.json lacks.
            by_config = {_sha256(image.config): image for image in images}
            for entry in _docker_entries(contents):
                config = contents.digest(entry["Config"], "config")
                if config in by_config:
                    _merge_tags(by_config[config], _docker_tags(entry))
        return images
    if "manifest.json" in metadata:
        return _docker_images(contents)
    raise NotAnArchive("it has neither manifest.json (docker) nor index.json (OCI)")


# -- docker-archive ----------------------------------------------------------------


def _docker_entries(contents: Contents) -> list[dict[str, Any]]:
    doc = _json(contents.metadata["manifest.json"], "manifest.json")
    if not isinstance(doc, list):
        raise NotAnArchive("manifest.json is not a list")
    for entry in doc:
        if not (isinstance(entry, dict) and isinstance(entry.get("Config"), str)
                and _is_str_list(entry.get("Layers"))
                and (entry.get("RepoTags") is None or _is_str_list(entry["RepoTags"]))):
            raise NotAnArchive("manifest.json entries need Config, Layers and RepoTags")
    if not doc:
        raise NotAnArchive("manifest.json lists no image")
    return doc


def _docker_images(contents: Contents) -> list[ArchiveImage]:
    images: dict[str, ArchiveImage] = {}
    for entry in _docker_entries(contents):
        config_digest = contents.digest(entry["Config"], "config")
        if config_digest in images:
            _merge_tags(images[config_digest], _docker_tags(entry))
            continue
        config = contents.read_small(config_digest, "config")
        diff_ids = _diff_ids(config, len(entry["Layers"]))
        layers = [_docker_layer(contents, name, diff_id)
                  for name, diff_id in zip(entry["Layers"], diff_ids, strict=True)]
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": la.media_type, "digest": la.digest, "size": la.size}
                       for la in layers],
        }
        images[config_digest] = ArchiveImage(
            manifest=json.dumps(manifest, separators=(",", ":")).encode(),
            config=config, layers=layers, tags=_docker_tags(entry))
    return list(images.values())


def _docker_layer(contents: Contents, name: str, diff_id: str) -> Layer:
    digest = contents.digest(name, "layer")
    blobs = contents.blobs
    with blobs.open(digest) as stream:
        head = stream.read(8)
    if head.startswith(_GZIP_MAGIC):
        media_type = OCI_LAYER + "+gzip"
        uncompressed = _uncompressed_digest(blobs, digest, "gzip")
    elif head.startswith(ZSTD_MAGIC):
        media_type = OCI_LAYER + "+zstd"
        uncompressed = _uncompressed_digest(blobs, digest, "zstd")
    elif head.startswith(_BZIP2_MAGIC) or head.startswith(_XZ_MAGIC):
        raise NotAnArchive(f"layer {name} is compressed with bzip2 or xz, which OCI images "
                            "cannot describe")
    else:
        media_type = OCI_LAYER
        uncompressed = digest
    if uncompressed != diff_id:
        raise DigestMismatch(f"{contents.path} is corrupt: layer {name} does not match the "
                             f"image config's diff_id {diff_id}")
    return Layer(digest=digest, diff_id=diff_id, size=blobs.size(digest), media_type=media_type)


def _uncompressed_digest(blobs: BlobStore, digest: str, compression: str) -> str:
    hasher = hashlib.sha256()
    try:
        with blobs.open(digest) as raw:
            reader: Readable
            if compression == "gzip":
                reader = gzip.GzipFile(fileobj=raw, mode="rb")
            else:
                reader = zstandard.ZstdDecompressor().stream_reader(raw)
            while chunk := reader.read(_CHUNK):
                hasher.update(chunk)
    except (zlib.error, EOFError, gzip.BadGzipFile, zstandard.ZstdError) as e:
        raise NotAnArchive(f"layer {digest} cannot be decompressed: {e}") from None
    return "sha256:" + hasher.hexdigest()


def _docker_tags(entry: dict[str, Any]) -> list[str]:
    tags = []
    for text in entry.get("RepoTags") or []:
        try:
            ref = Reference.parse(text)
        except InvalidArgument as e:
            raise NotAnArchive(f"manifest.json has a bad tag: {e}") from None
        if ref.digest:
            continue
        tags.append(ref.canonical)
    return tags


def _diff_ids(config: bytes, count: int) -> list[str]:
    doc = _json(config, "image config")
    rootfs = doc.get("rootfs") if isinstance(doc, dict) else None
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not _is_str_list(diff_ids):
        raise NotAnArchive("the image config has no rootfs.diff_ids")
    assert isinstance(diff_ids, list)
    if len(diff_ids) != count:
        raise NotAnArchive(f"the image config lists {len(diff_ids)} layers, the manifest "
                            f"{count}")
    for diff_id in diff_ids:
        if not re.match(r"^sha256:[a-f0-9]{64}$", diff_id):
            raise NotAnArchive(f"the image config has an invalid diff_id {diff_id!r}")
    return diff_ids


# -- OCI layout ----------------------------------------------------------------------


def _oci_images(contents: Contents) -> list[ArchiveImage]:
    layout = contents.metadata.get("oci-layout")
    if layout is not None:
        doc = _json(layout, "oci-layout")
        if not isinstance(doc, dict) or "imageLayoutVersion" not in doc:
            raise NotAnArchive("oci-layout has no imageLayoutVersion")
    index = _json(contents.metadata["index.json"], "index.json")
    descriptors = _descriptors(index, "index.json")
    images: dict[str, ArchiveImage] = {}
    for descriptor in descriptors:
        names = _names(descriptor)
        digest = _manifest_for_platform(contents, descriptor)
        if digest is None:
            continue  # not an image (an artifact or an unknown media type)
        if digest in images:
            _merge_tags(images[digest], names)
            continue
        image = _oci_image(contents, digest)
        image.tags = names
        images[digest] = image
    if not images:
        raise NotAnArchive("index.json lists no image")
    return list(images.values())


def _manifest_for_platform(contents: Contents, descriptor: dict[str, Any],
                           depth: int = 0) -> str | None:
    """The image manifest ``descriptor`` leads to, choosing a platform in indexes."""
    if depth > 8:
        raise NotAnArchive("image indexes are nested too deeply")
    digest = contents.blob(descriptor["digest"], "manifest")
    raw = contents.read_small(digest, "manifest")
    _check_size(descriptor, len(raw), digest)
    doc = _json(raw, f"manifest {digest}")
    if not isinstance(doc, dict):
        raise NotAnArchive(f"manifest {digest} is not a JSON object")
    media_type = descriptor.get("mediaType") or doc.get("mediaType")
    if not media_type:
        media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST
    if media_type in _MANIFEST_TYPES:
        return digest
    if media_type not in _INDEX_TYPES:
        return None
    children = [d for d in _descriptors(doc, f"index {digest}")
                if not _is_attestation(d) and contents.has_blob(d["digest"])]
    if not children:
        raise NotAnArchive(f"index {digest} holds no manifest whose blobs are in the archive")
    host = _host_platform()
    children.sort(key=lambda d: not _platform_matches(d.get("platform"), host))
    return _manifest_for_platform(contents, children[0], depth + 1)


def _oci_image(contents: Contents, digest: str) -> ArchiveImage:
    manifest = contents.read_small(digest, "manifest")
    doc = _json(manifest, f"manifest {digest}")
    config_desc = doc.get("config") if isinstance(doc, dict) else None
    layer_descs = doc.get("layers") if isinstance(doc, dict) else None
    if not isinstance(config_desc, dict) or not isinstance(layer_descs, list):
        raise NotAnArchive(f"manifest {digest} has no config or layers")
    config_digest = contents.blob(config_desc.get("digest", ""), "config")
    config = contents.read_small(config_digest, "config")
    _check_size(config_desc, len(config), config_digest)
    diff_ids = _diff_ids(config, len(layer_descs))
    layers = []
    for desc, diff_id in zip(layer_descs, diff_ids, strict=True):
        if not isinstance(desc, dict) or not isinstance(desc.get("mediaType"), str):
            raise NotAnArchive(f"manifest {digest} has a malformed layer")
        layer_digest = contents.blob(desc.get("digest", ""), "layer")
        size = contents.blobs.size(layer_digest)
        _check_size(desc, size, layer_digest)
        layers.append(Layer(layer_digest, diff_id, size, desc["mediaType"]))
    return ArchiveImage(manifest=manifest, config=config, layers=layers)


def _descriptors(doc: Any, what: str) -> list[dict[str, Any]]:
    manifests = doc.get("manifests") if isinstance(doc, dict) else None
    if not isinstance(manifests, list):
        raise NotAnArchive(f"{what} has no manifests list")
    for descriptor in manifests:
        if not (isinstance(descriptor, dict) and isinstance(descriptor.get("digest"), str)):
            raise NotAnArchive(f"{what} has a malformed manifest descriptor")
        annotations = descriptor.get("annotations")
        if annotations is not None and not isinstance(annotations, dict):
            raise NotAnArchive(f"{what} has malformed annotations")
    return manifests


def _names(descriptor: dict[str, Any]) -> list[str]:
    """The tag an index.json entry gives its image, canonical; [] when it has none."""
    annotations = descriptor.get("annotations") or {}
    text = annotations.get(ANNOTATION_IMAGE_NAME)
    if not isinstance(text, str) or not text:
        text = annotations.get(ANNOTATION_REF_NAME)
        # A bare ref.name ("latest", "v1.0") is a tag without a repository.
        if not isinstance(text, str) or not re.search(r"[:/@]", text):
            return []
    try:
        ref = Reference.parse(text)
    except InvalidArgument as e:
        raise NotAnArchive(f"index.json names an image badly: {e}") from None
    return [] if ref.digest else [ref.canonical]


def _is_attestation(descriptor: dict[str, Any]) -> bool:
    annotations = descriptor.get("annotations") or {}
    if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
        return True
    plat = descriptor.get("platform")
    return isinstance(plat, dict) and plat.get("os") == "unknown"


def _host_platform() -> tuple[str, str]:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "i386": "386", "i686": "386", "armv7l": "arm", "armv6l": "arm"}.get(machine, machine)
    return "linux", arch


def _platform_matches(plat: Any, host: tuple[str, str]) -> bool:
    return isinstance(plat, dict) and (plat.get("os"), plat.get("architecture")) == host


def _check_size(descriptor: dict[str, Any], actual: int, digest: str) -> None:
    size = descriptor.get("size")
    if size is not None and size != actual:
        raise DigestMismatch(f"blob {digest} has {actual} bytes, its descriptor says {size}")


# -- small helpers -------------------------------------------------------------------


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise NotAnArchive(f"{what} is not valid JSON ({e})") from None


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _merge_tags(image: ArchiveImage, tags: list[str]) -> None:
    image.tags.extend(t for t in tags if t not in image.tags)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()

