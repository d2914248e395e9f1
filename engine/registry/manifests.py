"""Manifest documents: what a registry sent, checked before anything trusts it.

A registry answers a manifest request with one of four formats we read (OCI
image index and manifest, Docker manifest list and schema 2) or the retired
Docker schema 1, which we refuse with a message saying so. Every descriptor is
validated here (digest syntax, size, media type) so the rest of the client
works with plain, typed values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.errors import RegistryError
from engine.images.mediatypes import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from engine.registry.platforms import Platform

__all__ = [
    "ACCEPT",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "Descriptor",
    "Index",
    "Manifest",
    "parse",
]

SCHEMA1_TYPES = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
# Schema 1 is listed last, so a registry only sends it when it has nothing else
# and we can say why we refuse it instead of failing on a converted document.
ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, SCHEMA1_TYPES[1]])

# Layer media types we can unpack (tar, gzip, zstd; OCI and Docker names).
LAYER_TYPES = (
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
)

_HEX = set("0123456789abcdef")
_MAX_DOCUMENT = 4 << 20  # manifests are small; refuse anything absurd


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Index:
    media_type: str
    manifests: list[Descriptor]


@dataclass(frozen=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: list[Descriptor] = field(default_factory=list)


def parse(body: bytes, content_type: str, where: str) -> Index | Manifest:
    """Read a manifest document; ``where`` names it in error messages (ref or digest)."""
    if len(body) > _MAX_DOCUMENT:
        raise RegistryError(f"the manifest of {where} is too large ({len(body)} bytes)")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(f"the registry sent a manifest for {where} that is not "
                            "valid JSON") from None
    if not isinstance(doc, dict):
        raise RegistryError(f"the registry sent a manifest for {where} that is not "
                            "a JSON object")
    media_type = _media_type(doc, content_type.split(";")[0].strip())
    if doc.get("schemaVersion") == 1 or media_type in SCHEMA1_TYPES:
        raise RegistryError(
            f"{where} uses the old schema 1 manifest format, which Skiff does not support; "
            "ask its publisher to push it again with a current tool (docker, buildah, skopeo)")
    if media_type in INDEX_TYPES:
        entries = _list(doc, "manifests", where)
        return Index(media_type, [_descriptor(e, where, platform=True) for e in entries])
    if media_type in MANIFEST_TYPES:
        config = doc.get("config")
        if not isinstance(config, dict):
            raise RegistryError(f"the manifest of {where} has no config descriptor")
        layers = [_descriptor(e, where) for e in _list(doc, "layers", where)]
        for layer in layers:
            if layer.media_type not in LAYER_TYPES:
                raise RegistryError(f"{where} has a layer of type {layer.media_type!r}, "
                                    "which Skiff cannot unpack")
        return Manifest(media_type, _descriptor(config, where), layers)
    raise RegistryError(f"{where} is not a container image (manifest type "
                        f"{media_type or 'unknown'!r})")


def _media_type(doc: dict[str, Any], content_type: str) -> str:
    declared = doc.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    if content_type in (*INDEX_TYPES, *MANIFEST_TYPES, *SCHEMA1_TYPES):
        return content_type
    # OCI documents may omit mediaType; their shape tells which one it is.
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc and "layers" in doc:
        return OCI_MANIFEST
    return ""


def _list(doc: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = doc.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RegistryError(f"the manifest of {where} has a malformed {key!r} list")
    return value


def _descriptor(value: dict[str, Any], where: str, *, platform: bool = False) -> Descriptor:
    digest = value.get("digest")
    size = value.get("size")
    media_type = value.get("mediaType")
    if not (isinstance(digest, str) and digest.startswith("sha256:") and len(digest) == 71
            and set(digest[7:]) <= _HEX):
        raise RegistryError(f"the manifest of {where} has a descriptor with an unsupported "
                            f"digest {digest!r} (Skiff verifies sha256 digests)")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise RegistryError(f"the manifest of {where} gives {digest} an invalid size {size!r}")
    if not isinstance(media_type, str):
        media_type = ""
    found: Platform | None = None
    raw_platform = value.get("platform")
    if platform and isinstance(raw_platform, dict):
        found = Platform.from_descriptor(raw_platform)
    urls = value.get("urls")
    url_list = tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else ()
    return Descriptor(media_type, digest, size, found, url_list)
