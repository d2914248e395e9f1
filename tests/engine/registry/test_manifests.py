"""Reading manifest documents (pure): the four formats, schema 1 refused, bad input."""

from __future__ import annotations

import json

import pytest

from engine.errors import RegistryError
from engine.images.mediatypes import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from engine.registry.manifests import Index, Manifest, parse

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"


def _manifest(media_type: str | None = OCI_MANIFEST, **extra: object) -> bytes:
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": DIGEST, "size": 10},
        "layers": [{"mediaType": LAYER_GZ, "digest": OTHER, "size": 20}],
        **extra,
    }
    if media_type:
        doc["mediaType"] = media_type
    return json.dumps(doc).encode()


def test_oci_manifest() -> None:
    found = parse(_manifest(), "", "x:1")
    assert isinstance(found, Manifest)
    assert found.config.digest == DIGEST
    assert [(la.digest, la.size, la.media_type) for la in found.layers] == [(OTHER, 20, LAYER_GZ)]


def test_oci_manifest_without_media_type_is_recognised_by_shape() -> None:
    found = parse(_manifest(None), "application/json", "x:1")
    assert isinstance(found, Manifest)
    assert found.media_type == OCI_MANIFEST


def test_docker_schema2_from_content_type() -> None:
    found = parse(_manifest(None), DOCKER_MANIFEST + "; charset=utf-8", "x:1")
    assert isinstance(found, Manifest) and found.media_type == DOCKER_MANIFEST


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_LIST])
def test_index_entries_carry_their_platforms(media_type: str) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": DIGEST, "size": 5,
         "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        {"mediaType": OCI_MANIFEST, "digest": OTHER, "size": 6,
         "platform": {"os": "linux", "architecture": "amd64"}},
    ]}).encode()
    found = parse(body, "", "x:1")
    assert isinstance(found, Index)
    assert [str(d.platform) for d in found.manifests] == ["linux/arm/v7", "linux/amd64"]


def test_schema1_is_refused_with_a_clear_message() -> None:
    body = json.dumps({"schemaVersion": 1, "name": "x", "tag": "old", "fsLayers": []}).encode()
    with pytest.raises(RegistryError, match="x:old uses the old schema 1 manifest format, "
                                            "which Skiff does not support"):
        parse(body, "application/vnd.docker.distribution.manifest.v1+prettyjws", "x:old")


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (_manifest(layers=[{"mediaType": LAYER_GZ, "digest": "md5:abc", "size": 1}]),
     "unsupported digest"),
    (_manifest(layers=[{"mediaType": LAYER_GZ, "digest": OTHER, "size": -1}]),
     "invalid size"),
    (_manifest(layers=[{"mediaType": "application/x-helm", "digest": OTHER, "size": 1}]),
     "cannot unpack"),
    (json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.cncf.helm.config"}).encode(),
     "is not a container image"),
])
def test_malformed_documents_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        parse(body, "", "x:1")
