"""Image archives: ``docker save`` tars and OCI image layouts, in and out.

Reading makes one sequential pass over the (maybe compressed) tar: every file
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

Writing produces one tar that is both a docker-archive and an OCI layout, as
Docker 25+ does: the stored manifest, config and layer blobs go under
``blobs/sha256/``, ``index.json`` names them for OCI tools and
``manifest.json``/``repositories`` for docker-archive tools.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import os
import platform
import posixpath
import re
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from engine.errors import DigestMismatch, InvalidArgument
from engine.images.blobs import BlobStore, Readable
from engine.images.model import Image, Layer
from engine.images.reference import Reference

__all__ = ["ArchiveImage", "read_archive", "write_archive"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_INDEX_TYPES = {OCI_INDEX, DOCKER_LIST}
_MANIFEST_TYPES = {OCI_MANIFEST, DOCKER_MANIFEST}

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"

_METADATA_FILES = {"manifest.json", "index.json", "oci-layout", "repositories"}
_METADATA_LIMIT = 16 << 20  # index files and configs are small; refuse giants
_BLOB_NAME = re.compile(r"^blobs/sha256/([a-f0-9]{64})$")
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_TAR_ERRORS = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile,
               zstandard.ZstdError)


@dataclass
class ArchiveImage:
    """One image found in an archive; its config and layer blobs are in the blob store."""

    manifest: bytes
    config: bytes
    layers: list[Layer]
    tags: list[str] = field(default_factory=list)  # canonical: docker.io/library/busybox:latest


class _NotAnArchive(Exception):
    """The input is not an image archive; the message says why."""


# -- reading -----------------------------------------------------------------------


def read_archive(path: Path, blobs: BlobStore) -> list[ArchiveImage]:
    """Store the blobs of every image in ``path`` and describe those images.

    Raises InvalidArgument for anything that is not a docker save or OCI image
    archive and DigestMismatch for content that does not match its digest.
    """
    contents = _Contents(path, blobs)
    try:
        _scan(path, contents)
        images = _read_images(contents)
    except _NotAnArchive as e:
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


class _Contents:
    """What one pass over the archive found, by (normalised) member name."""

    def __init__(self, path: Path, blobs: BlobStore) -> None:
        self.path = path
        self.blobs = blobs
        self.files: dict[str, str] = {}  # name -> digest of its content in the blob store
        self.links: dict[str, str] = {}  # name -> name it points to
        self.metadata: dict[str, bytes] = {}
        self.added: set[str] = set()  # digests this read put into the blob store

    def digest(self, name: str, what: str) -> str:
        """The digest of the member ``name``, following links."""
        key = _normalise(name)
        for _ in range(32):
            if key in self.files:
                return self.files[key]
            if key not in self.links:
                break
            key = self.links[key]
        raise _NotAnArchive(f"{what} {name!r} is not in the archive")

    def blob(self, digest: str, what: str) -> str:
        """Check that the OCI blob ``digest`` is in the archive; return it."""
        if not isinstance(digest, str) or not re.match(r"^sha256:[a-f0-9]{64}$", digest):
            raise _NotAnArchive(f"{what} has an invalid digest {digest!r}")
        self.digest(f"blobs/sha256/{digest.removeprefix('sha256:')}", what)
        return digest

    def has_blob(self, digest: str) -> bool:
        try:
            self.blob(digest, "blob")
        except _NotAnArchive:
            return False
        return True

    def read_small(self, digest: str, what: str) -> bytes:
        if self.blobs.size(digest) > _METADATA_LIMIT:
            raise _NotAnArchive(f"{what} {digest} is too large")
        return self.blobs.read_bytes(digest)

    def discard_added(self, keep: set[str]) -> None:
        for digest in self.added - keep:
            with suppress(OSError):
                self.blobs.remove(digest)


def _scan(path: Path, contents: _Contents) -> None:
    try:
        with _open_tar(path) as tar:
            for member in tar:
                name = _normalise(member.name)
                if member.issym():
                    contents.links[name] = _normalise(
                        posixpath.join(posixpath.dirname(name), member.linkname))
                elif member.islnk():
                    contents.links[name] = _normalise(member.linkname)
                elif member.isreg():
                    _take_file(tar, member, name, contents)
    except _TAR_ERRORS as e:
        raise _NotAnArchive(str(e) or type(e).__name__) from None


def _take_file(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str,
               contents: _Contents) -> None:
    stream = tar.extractfile(member)
    if stream is None:
        return
    if name in _METADATA_FILES:
        if member.size > _METADATA_LIMIT:
            raise _NotAnArchive(f"{name} is too large ({member.size} bytes)")
        contents.metadata[name] = stream.read()
        return
    match = _BLOB_NAME.match(name)
    expected = f"sha256:{match.group(1)}" if match else None
    if expected is not None and contents.blobs.has(expected):
        contents.files[name] = expected  # already stored (and verified) earlier
        return
    try:
        digest, created = contents.blobs.ingest_new(stream, expected, member.size)
    except DigestMismatch:
        raise DigestMismatch(f"{contents.path} is corrupt: {name} does not match its "
                             "digest") from None
    contents.files[name] = digest
    if created:
        contents.added.add(digest)


@contextmanager
def _open_tar(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        raw: BinaryIO = path.open("rb")
    except IsADirectoryError:
        raise InvalidArgument(f"{path} is a directory, not an image archive") from None
    except OSError as e:
        raise InvalidArgument(f"cannot read {path}: {e.strerror}") from None
    with raw:
        head = raw.read(8)
        raw.seek(0)
        if head.startswith(_ZSTD_MAGIC):
            reader = zstandard.ZstdDecompressor().stream_reader(raw)
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                yield tar
        else:
            # r|* recognises gzip, bzip2 and xz, as docker load does.
            with tarfile.open(fileobj=raw, mode="r|*") as tar:
                yield tar


def _read_images(contents: _Contents) -> list[ArchiveImage]:
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
    raise _NotAnArchive("it has neither manifest.json (docker) nor index.json (OCI)")


# -- docker-archive ----------------------------------------------------------------


def _docker_entries(contents: _Contents) -> list[dict[str, Any]]:
    doc = _json(contents.metadata["manifest.json"], "manifest.json")
    if not isinstance(doc, list):
        raise _NotAnArchive("manifest.json is not a list")
    for entry in doc:
        if not (isinstance(entry, dict) and isinstance(entry.get("Config"), str)
                and _is_str_list(entry.get("Layers"))
                and (entry.get("RepoTags") is None or _is_str_list(entry["RepoTags"]))):
            raise _NotAnArchive("manifest.json entries need Config, Layers and RepoTags")
    if not doc:
        raise _NotAnArchive("manifest.json lists no image")
    return doc


def _docker_images(contents: _Contents) -> list[ArchiveImage]:
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


def _docker_layer(contents: _Contents, name: str, diff_id: str) -> Layer:
    digest = contents.digest(name, "layer")
    blobs = contents.blobs
    with blobs.open(digest) as stream:
        head = stream.read(8)
    if head.startswith(_GZIP_MAGIC):
        media_type = OCI_LAYER + "+gzip"
        uncompressed = _uncompressed_digest(blobs, digest, "gzip")
    elif head.startswith(_ZSTD_MAGIC):
        media_type = OCI_LAYER + "+zstd"
        uncompressed = _uncompressed_digest(blobs, digest, "zstd")
    elif head.startswith(_BZIP2_MAGIC) or head.startswith(_XZ_MAGIC):
        raise _NotAnArchive(f"layer {name} is compressed with bzip2 or xz, which OCI images "
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
        raise _NotAnArchive(f"layer {digest} cannot be decompressed: {e}") from None
    return "sha256:" + hasher.hexdigest()


def _docker_tags(entry: dict[str, Any]) -> list[str]:
    tags = []
    for text in entry.get("RepoTags") or []:
        try:
            ref = Reference.parse(text)
        except InvalidArgument as e:
            raise _NotAnArchive(f"manifest.json has a bad tag: {e}") from None
        if ref.digest:
            continue
        tags.append(ref.canonical)
    return tags


def _diff_ids(config: bytes, count: int) -> list[str]:
    doc = _json(config, "image config")
    rootfs = doc.get("rootfs") if isinstance(doc, dict) else None
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not _is_str_list(diff_ids):
        raise _NotAnArchive("the image config has no rootfs.diff_ids")
    assert isinstance(diff_ids, list)
    if len(diff_ids) != count:
        raise _NotAnArchive(f"the image config lists {len(diff_ids)} layers, the manifest "
                            f"{count}")
    for diff_id in diff_ids:
        if not re.match(r"^sha256:[a-f0-9]{64}$", diff_id):
            raise _NotAnArchive(f"the image config has an invalid diff_id {diff_id!r}")
    return diff_ids


# -- OCI layout ----------------------------------------------------------------------


def _oci_images(contents: _Contents) -> list[ArchiveImage]:
    layout = contents.metadata.get("oci-layout")
    if layout is not None:
        doc = _json(layout, "oci-layout")
        if not isinstance(doc, dict) or "imageLayoutVersion" not in doc:
            raise _NotAnArchive("oci-layout has no imageLayoutVersion")
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
        raise _NotAnArchive("index.json lists no image")
    return list(images.values())


def _manifest_for_platform(contents: _Contents, descriptor: dict[str, Any],
                           depth: int = 0) -> str | None:
    """The image manifest ``descriptor`` leads to, choosing a platform in indexes."""
    if depth > 8:
        raise _NotAnArchive("image indexes are nested too deeply")
    digest = contents.blob(descriptor["digest"], "manifest")
    raw = contents.read_small(digest, "manifest")
    _check_size(descriptor, len(raw), digest)
    doc = _json(raw, f"manifest {digest}")
    if not isinstance(doc, dict):
        raise _NotAnArchive(f"manifest {digest} is not a JSON object")
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
        raise _NotAnArchive(f"index {digest} holds no manifest whose blobs are in the archive")
    host = _host_platform()
    children.sort(key=lambda d: not _platform_matches(d.get("platform"), host))
    return _manifest_for_platform(contents, children[0], depth + 1)


def _oci_image(contents: _Contents, digest: str) -> ArchiveImage:
    manifest = contents.read_small(digest, "manifest")
    doc = _json(manifest, f"manifest {digest}")
    config_desc = doc.get("config") if isinstance(doc, dict) else None
    layer_descs = doc.get("layers") if isinstance(doc, dict) else None
    if not isinstance(config_desc, dict) or not isinstance(layer_descs, list):
        raise _NotAnArchive(f"manifest {digest} has no config or layers")
    config_digest = contents.blob(config_desc.get("digest", ""), "config")
    config = contents.read_small(config_digest, "config")
    _check_size(config_desc, len(config), config_digest)
    diff_ids = _diff_ids(config, len(layer_descs))
    layers = []
    for desc, diff_id in zip(layer_descs, diff_ids, strict=True):
        if not isinstance(desc, dict) or not isinstance(desc.get("mediaType"), str):
            raise _NotAnArchive(f"manifest {digest} has a malformed layer")
        layer_digest = contents.blob(desc.get("digest", ""), "layer")
        size = contents.blobs.size(layer_digest)
        _check_size(desc, size, layer_digest)
        layers.append(Layer(layer_digest, diff_id, size, desc["mediaType"]))
    return ArchiveImage(manifest=manifest, config=config, layers=layers)


def _descriptors(doc: Any, what: str) -> list[dict[str, Any]]:
    manifests = doc.get("manifests") if isinstance(doc, dict) else None
    if not isinstance(manifests, list):
        raise _NotAnArchive(f"{what} has no manifests list")
    for descriptor in manifests:
        if not (isinstance(descriptor, dict) and isinstance(descriptor.get("digest"), str)):
            raise _NotAnArchive(f"{what} has a malformed manifest descriptor")
        annotations = descriptor.get("annotations")
        if annotations is not None and not isinstance(annotations, dict):
            raise _NotAnArchive(f"{what} has malformed annotations")
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
        raise _NotAnArchive(f"index.json names an image badly: {e}") from None
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


# -- writing -------------------------------------------------------------------------


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


# -- small helpers -------------------------------------------------------------------


def _normalise(name: str) -> str:
    name = posixpath.normpath(name.lstrip("/"))
    return "" if name == "." else name


def _json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise _NotAnArchive(f"{what} is not valid JSON ({e})") from None


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _merge_tags(image: ArchiveImage, tags: list[str]) -> None:
    image.tags.extend(t for t in tags if t not in image.tags)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()

