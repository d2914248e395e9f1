"""The media types and annotations of OCI and Docker image documents."""

from __future__ import annotations

__all__ = ["ANNOTATION_IMAGE_NAME", "ANNOTATION_REF_NAME", "DOCKER_LIST", "DOCKER_MANIFEST",
           "OCI_CONFIG", "OCI_INDEX", "OCI_LAYER", "OCI_MANIFEST"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"  # the tag, in an OCI index
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"  # the whole reference (containerd)
