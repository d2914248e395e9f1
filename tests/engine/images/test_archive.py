"""docker save / OCI archives: reading what real tools write, writing what they read."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zstandard

from engine.db import Database
from engine.errors import DigestMismatch, InvalidArgument
from engine.images.archive import ArchiveImage, read_archive
from engine.images.blobs import BlobStore
from engine.images.model import Image, Layer
from engine.images.save import write_archive
from engine.images.store import ImageStore
from tests.fixtures.images import MULTILAYER_LABEL, read_oci_image

OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "engine")


@pytest.fixture
def store(tmp_path: Path, blobs: BlobStore) -> Iterator[ImageStore]:
    db = Database(tmp_path / "engine" / "engine.db")
    yield ImageStore(db, blobs)
    db.close()


def _skopeo(*args: str) -> str:
    done = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _load(store: ImageStore, archive: Path) -> list[Image]:
    return [store.add(manifest=i.manifest, config=i.config, layers=i.layers, tags=i.tags)
            for i in read_archive(archive, store.blobs)]


def _members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


Member = tuple[tarfile.TarInfo, bytes | None]


def _rewrite(source: Path, dest: Path,
             change: Callable[[list[Member]], list[Member]]) -> Path:
    """Copy the tar ``source`` to ``dest`` through ``change`` (for hand-made variants)."""
    with tarfile.open(source) as tar:
        members: list[Member] = []
        for info in tar.getmembers():
            stream = tar.extractfile(info) if info.isreg() else None
            members.append((info, stream.read() if stream else None))
    with tarfile.open(dest, "w") as out:
        for info, data in change(members):
            if data is not None:
                info.size = len(data)
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return dest


def _file(name: str, data: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _check_busybox(image: ArchiveImage, busybox_oci: Path) -> None:
    source = read_oci_image(busybox_oci)
    assert _digest(image.config) == source.image_id
    assert [la.diff_id for la in image.layers] == source.config_json["rootfs"]["diff_ids"]


# -- reading real tools' archives ----------------------------------------------------


def test_read_skopeo_docker_archive(busybox_docker_archive: Path, busybox_oci: Path,
                                    blobs: BlobStore) -> None:
    [image] = read_archive(busybox_docker_archive, blobs)
    _check_busybox(image, busybox_oci)
    assert image.tags == ["docker.io/library/busybox:latest"]
    [layer] = image.layers
    assert layer.digest == layer.diff_id  # docker-archive layers are uncompressed
    assert layer.media_type == OCI_LAYER
    assert layer.size == blobs.size(layer.digest)
    manifest = json.loads(image.manifest)
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["digest"] == _digest(image.config)
    assert manifest["layers"] == [{"mediaType": OCI_LAYER, "digest": layer.digest,
                                   "size": layer.size}]
    # Only what the image uses stays: not the legacy <id>/json and VERSION files.
    assert set(blobs.digests()) == {_digest(image.config), layer.digest}


def test_read_skopeo_oci_archive(busybox_oci_archive: Path, busybox_oci: Path,
                                 blobs: BlobStore) -> None:
    [image] = read_archive(busybox_oci_archive, blobs)
    _check_busybox(image, busybox_oci)
    source = read_oci_image(busybox_oci)
    assert image.manifest == source.manifest
    assert image.tags == ["docker.io/library/busybox:latest"]
    [layer] = image.layers
    assert layer.digest == source.layers[0]["digest"]
    assert layer.media_type == OCI_LAYER + "+gzip"
    assert set(blobs.digests()) == {_digest(image.config), layer.digest,
                                    source.manifest_digest}


def test_read_multilayer_docker_archive(busybox_multilayer_docker_archive: Path,
                                        busybox_multilayer_oci: Path,
                                        store: ImageStore) -> None:
    [image] = _load(store, busybox_multilayer_docker_archive)
    source = read_oci_image(busybox_multilayer_oci)
    assert image.id == source.image_id
    assert len(image.layers) == 3
    assert image.repo_tags == ["docker.io/library/busybox-multi:latest"]
    assert image.run_config["Labels"] == dict([MULTILAYER_LABEL])
    with tarfile.open(store.blobs.path(image.layers[2].digest)) as tar:
        names = set(tar.getnames())
    assert {"data/.wh.a", "opt/.wh.app"} <= names


def test_read_nested_index_picks_the_host_platform(busybox_index_oci: Path,
                                                   busybox_oci: Path, tmp_path: Path,
                                                   blobs: BlobStore) -> None:
    archive = tmp_path / "index.tar"
    with tarfile.open(archive, "w") as tar:
        for name in ("oci-layout", "index.json", "blobs"):
            tar.add(busybox_index_oci / name, arcname=name)
    [image] = read_archive(archive, blobs)
    _check_busybox(image, busybox_oci)
    assert image.tags == []  # a bare ref.name ("latest") names no repository


def test_loading_twice_keeps_the_blobs(busybox_docker_archive: Path, store: ImageStore) -> None:
    [first] = _load(store, busybox_docker_archive)
    [second] = _load(store, busybox_docker_archive)
    assert first == second
    assert store.blobs.read_bytes(first.layers[0].digest)


def test_read_compressed_archives(busybox_docker_archive: Path, busybox_oci: Path,
                                  tmp_path: Path, blobs: BlobStore) -> None:
    raw = busybox_docker_archive.read_bytes()
    gz = tmp_path / "busybox.tar.gz"
    gz.write_bytes(gzip.compress(raw))
    zst = tmp_path / "busybox.tar.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(raw))
    for archive in (gz, zst):
        [image] = read_archive(archive, blobs)
        _check_busybox(image, busybox_oci)


def test_read_legacy_layer_tar_layout(busybox_docker_archive: Path, busybox_oci: Path,
                                      tmp_path: Path, blobs: BlobStore) -> None:
    """Docker < 25: layers only at <id>/layer.tar, manifest.json pointing there."""
    def legacy(members: list[Member]) -> list[Member]:
        files = {info.name: data for info, data in members if data is not None}
        out: list[Member] = []
        [entry] = json.loads(files["manifest.json"])
        layers = []
        for info, data in members:
            if info.name in entry["Layers"]:
                continue  # the top-level <diff_id>.tar goes
            if info.issym():
                target = os.path.normpath(os.path.join(os.path.dirname(info.name),
                                                       info.linkname))
                out.append(_file(info.name, files[target]))
                layers.append(info.name)
            elif info.name != "manifest.json":
                out.append((info, data))
        entry["Layers"] = layers
        entry["RepoTags"] = ["busybox:legacy"]
        out.append(_file("manifest.json", json.dumps([entry]).encode()))
        return out

    archive = _rewrite(busybox_docker_archive, tmp_path / "legacy.tar", legacy)
    assert any(n.endswith("/layer.tar") for n in _members(archive))
    [image] = read_archive(archive, blobs)
    _check_busybox(image, busybox_oci)
    assert image.tags == ["docker.io/library/busybox:legacy"]


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_read_docker_archive_with_compressed_layer(busybox_docker_archive: Path,
                                                   busybox_oci: Path, tmp_path: Path,
                                                   blobs: BlobStore, compression: str) -> None:
    compress: Callable[[bytes], bytes] = (
        gzip.compress if compression == "gzip" else zstandard.ZstdCompressor().compress)

    def compressed(members: list[Member]) -> list[Member]:
        layer = next(info.name for info, _ in members if info.name.endswith(".tar")
                     and "/" not in info.name)
        return [(info, compress(data) if info.name == layer and data else data)
                for info, data in members]

    archive = _rewrite(busybox_docker_archive, tmp_path / "gz.tar", compressed)
    [image] = read_archive(archive, blobs)
    _check_busybox(image, busybox_oci)
    [layer] = image.layers
    assert layer.digest != layer.diff_id
    assert layer.media_type == f"{OCI_LAYER}+{compression}"


# -- bad input -----------------------------------------------------------------------


def _tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info, _ = _file(name, data)
            tar.addfile(info, io.BytesIO(data))
    return path


GARBAGE: dict[str, Callable[[Path], Path]] = {
    "empty file": lambda p: (p.write_bytes(b""), p)[1],
    "text": lambda p: (p.write_text("hello, I am not a tar\n" * 40), p)[1],
    "random bytes": lambda p: (p.write_bytes(os.urandom(10_000)), p)[1],
    "gzip of junk": lambda p: (p.write_bytes(gzip.compress(os.urandom(10_000))), p)[1],
    "truncated gzip": lambda p: (p.write_bytes(gzip.compress(b"x" * 10_000)[:30]), p)[1],
    "tar without index": lambda p: _tar(p, {"hello.txt": b"hi"}),
    "manifest lists nothing": lambda p: _tar(p, {"manifest.json": b"[]"}),
    "manifest not json": lambda p: _tar(p, {"manifest.json": b"{nope"}),
    "manifest wrong shape": lambda p: _tar(p, {"manifest.json": b'{"Config": 1}'}),
    "index not json": lambda p: _tar(p, {"index.json": b"\xff\xfe"}),
    "index without images": lambda p: _tar(p, {"index.json": b'{"manifests": []}'}),
    "missing config": lambda p: _tar(p, {"manifest.json": json.dumps(
        [{"Config": "../../../etc/passwd", "RepoTags": None, "Layers": []}]).encode()}),
    "missing layer": lambda p: _tar(p, {
        "c.json": b'{"rootfs": {"type": "layers", "diff_ids": ["sha256:' + b"a" * 64 + b'"]}}',
        "manifest.json": b'[{"Config": "c.json", "RepoTags": [], "Layers": ["/etc/shadow"]}]'}),
    "bad tag": lambda p: _tar(p, {
        "c.json": b'{"rootfs": {"type": "layers", "diff_ids": []}}',
        "manifest.json": b'[{"Config": "c.json", "RepoTags": ["NOT VALID"], "Layers": []}]'}),
    "config without rootfs": lambda p: _tar(p, {
        "c.json": b'{"architecture": "amd64"}',
        "manifest.json": b'[{"Config": "c.json", "RepoTags": [], "Layers": []}]'}),
    "index blob missing": lambda p: _tar(p, {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
        "index.json": json.dumps({"manifests": [{"digest": "sha256:" + "b" * 64,
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 2}]}).encode()}),
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_is_refused_cleanly(kind: str, tmp_path: Path, blobs: BlobStore) -> None:
    archive = GARBAGE[kind](tmp_path / "garbage.tar")
    with pytest.raises(InvalidArgument, match="is not a docker save or OCI image archive: "):
        read_archive(archive, blobs)
    assert list(blobs.digests()) == []


def test_missing_file_and_directory(tmp_path: Path, blobs: BlobStore) -> None:
    with pytest.raises(InvalidArgument, match="No such file"):
        read_archive(tmp_path / "absent.tar", blobs)
    with pytest.raises(InvalidArgument, match="is a directory"):
        read_archive(tmp_path, blobs)


def test_corrupt_blob_is_a_digest_mismatch(busybox_oci_archive: Path, tmp_path: Path,
                                           blobs: BlobStore) -> None:
    def corrupt(members: list[Member]) -> list[Member]:
        biggest = max((m for m in members if m[1] is not None), key=lambda m: len(m[1] or b""))
        return [(info, data[:-1] + b"!" if (info, data) == biggest and data else data)
                for info, data in members]

    archive = _rewrite(busybox_oci_archive, tmp_path / "corrupt.tar", corrupt)
    with pytest.raises(DigestMismatch, match="corrupt"):
        read_archive(archive, blobs)
    assert list(blobs.digests()) == []


def test_layer_not_matching_its_diff_id(busybox_docker_archive: Path, tmp_path: Path,
                                        blobs: BlobStore) -> None:
    def swap(members: list[Member]) -> list[Member]:
        return [(info, data + b"\0" * 512 if info.name.endswith(".tar") and data else data)
                for info, data in members]

    archive = _rewrite(busybox_docker_archive, tmp_path / "swapped.tar", swap)
    with pytest.raises(DigestMismatch, match="diff_id"):
        read_archive(archive, blobs)
    assert list(blobs.digests()) == []


# -- writing -------------------------------------------------------------------------


def test_written_archive_is_a_docker_archive_and_an_oci_archive(
        busybox_oci_archive: Path, store: ImageStore, tmp_path: Path) -> None:
    [image] = _load(store, busybox_oci_archive)
    store.tag(image.id, "localhost:5000/team/box:v2")
    image = store.get(image.id)
    out = tmp_path / "saved.tar"
    write_archive(out, [(image, image.repo_tags)], store.blobs)

    members = _members(out)
    assert {"manifest.json", "index.json", "oci-layout", "repositories"} <= set(members)
    with tarfile.open(out) as tar:
        docker_manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    assert docker_manifest == [{
        "Config": f"blobs/sha256/{image.id.removeprefix('sha256:')}",
        "RepoTags": ["busybox:latest", "localhost:5000/team/box:v2"],
        "Layers": [f"blobs/sha256/{la.digest.removeprefix('sha256:')}" for la in image.layers],
    }]
    assert [m["annotations"] for m in index["manifests"]] == [
        {"io.containerd.image.name": "docker.io/library/busybox:latest",
         "org.opencontainers.image.ref.name": "latest"},
        {"io.containerd.image.name": "localhost:5000/team/box:v2",
         "org.opencontainers.image.ref.name": "v2"},
    ]

    as_docker = json.loads(_skopeo("inspect", f"docker-archive:{out}"))
    assert (as_docker["Architecture"], as_docker["Os"]) == (image.architecture, image.os)
    assert len(as_docker["Layers"]) == 1
    docker_config = json.loads(_skopeo("inspect", "--config", f"docker-archive:{out}"))
    assert docker_config["rootfs"]["diff_ids"] == [la.diff_id for la in image.layers]
    oci_raw = _skopeo("inspect", "--raw", f"oci-archive:{out}:v2")
    assert _digest(oci_raw.encode()) == image.manifest_digest
    oci_config = _skopeo("inspect", "--config", "--raw", f"oci-archive:{out}:latest")
    assert _digest(oci_config.encode()) == image.id

    fresh = BlobStore(tmp_path / "fresh")
    [again] = read_archive(out, fresh)
    assert _digest(again.config) == image.id
    assert again.manifest == store.manifest(image.id)
    assert again.tags == image.repo_tags


def test_skopeo_copies_our_archive(busybox_docker_archive: Path, busybox_oci: Path,
                                   store: ImageStore, tmp_path: Path) -> None:
    [image] = _load(store, busybox_docker_archive)
    out = tmp_path / "saved.tar"
    write_archive(out, [(image, ["busybox:latest"])], store.blobs)
    source = read_oci_image(busybox_oci)
    for transport in ("docker-archive", "oci-archive"):
        layout = tmp_path / f"copy-{transport}"
        _skopeo("copy", "-q", f"{transport}:{out}", f"oci:{layout}:copied")
        copied = read_oci_image(layout, "copied")
        # Converting docker to OCI, skopeo re-serialises the config (same JSON,
        # no trailing newline), as it does for its own docker-archives.
        assert copied.config_json == source.config_json, transport
        if transport == "oci-archive":
            assert copied.image_id == source.image_id


def test_write_several_images_and_untagged(busybox_oci_archive: Path,
                                           busybox_multilayer_docker_archive: Path,
                                           store: ImageStore, tmp_path: Path) -> None:
    [busybox] = _load(store, busybox_oci_archive)
    [multi] = _load(store, busybox_multilayer_docker_archive)
    store.untag("busybox-multi")
    multi = store.get(multi.id)
    out = tmp_path / "two.tar"
    write_archive(out, [(busybox, ["busybox:latest", "busybox:other"]), (multi, [])],
                  store.blobs)

    inspected = json.loads(_skopeo("inspect", "--config", f"docker-archive:{out}:busybox:other"))
    assert inspected["rootfs"]["diff_ids"] == [la.diff_id for la in busybox.layers]
    inspected = json.loads(_skopeo("inspect", "--config", f"docker-archive:{out}:@1"))
    assert inspected["rootfs"]["diff_ids"] == [la.diff_id for la in multi.layers]

    fresh_store = ImageStore(Database(tmp_path / "fresh" / "db"), BlobStore(tmp_path / "fresh"))
    try:
        loaded = {i.id: i for i in _load(fresh_store, out)}
        assert set(loaded) == {busybox.id, multi.id}
        assert loaded[busybox.id].repo_tags == ["docker.io/library/busybox:latest",
                                                "docker.io/library/busybox:other"]
        assert loaded[multi.id].repo_tags == []
        # The base layer both images share is written once.
        layer_names = [n for n in _members(out) if n.startswith("blobs/sha256/")]
        assert len(layer_names) == len(set(layer_names))
    finally:
        fresh_store.db.close()


def test_write_replaces_atomically_and_reports_errors(busybox_docker_archive: Path,
                                                      store: ImageStore,
                                                      tmp_path: Path) -> None:
    [image] = _load(store, busybox_docker_archive)
    out = tmp_path / "out.tar"
    out.write_text("old content")
    write_archive(out, [(image, [])], store.blobs)
    assert read_archive(out, BlobStore(tmp_path / "other"))[0].tags == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.tar")] == []
    with pytest.raises(InvalidArgument, match="cannot write"):
        write_archive(tmp_path / "no-such-dir" / "x.tar", [(image, [])], store.blobs)
    with pytest.raises(InvalidArgument, match="digest"):
        write_archive(out, [(image, ["busybox@sha256:" + "a" * 64])], store.blobs)


def test_docker_v2_manifest_round_trip(busybox_oci_archive: Path, store: ImageStore,
                                       tmp_path: Path) -> None:
    """Images pulled from Docker Hub keep docker's manifest type; both tools still read them."""
    [loaded] = read_archive(busybox_oci_archive, store.blobs)
    gzip_type = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    manifest = json.loads(loaded.manifest)
    manifest["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
    manifest["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
    for layer in manifest["layers"]:
        layer["mediaType"] = gzip_type
    layers = [Layer(la.digest, la.diff_id, la.size, gzip_type) for la in loaded.layers]
    image = store.add(manifest=json.dumps(manifest).encode(), config=loaded.config,
                      layers=layers, tags=["busybox"])
    out = tmp_path / "v2.tar"
    write_archive(out, [(image, image.repo_tags)], store.blobs)
    for transport in ("docker-archive", "oci-archive"):
        config = json.loads(_skopeo("inspect", "--config", f"{transport}:{out}"))
        assert config["rootfs"]["diff_ids"] == [la.diff_id for la in layers], transport
    [again] = read_archive(out, BlobStore(tmp_path / "fresh"))
    assert again.layers == layers
    assert again.manifest == store.manifest(image.id)


def test_write_to_a_device(busybox_docker_archive: Path, store: ImageStore) -> None:
    [image] = _load(store, busybox_docker_archive)
    write_archive(Path("/dev/null"), [(image, [])], store.blobs)
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("keep", ["docker", "oci"])
def test_each_side_of_a_written_archive_stands_alone(busybox_oci_archive: Path,
                                                     store: ImageStore, tmp_path: Path,
                                                     keep: str) -> None:
    """Docker 25+ archives read through manifest.json alone, or through index.json alone."""
    [image] = _load(store, busybox_oci_archive)
    store.tag(image.id, "ghcr.io/org/box:1")
    image = store.get(image.id)
    full = tmp_path / "full.tar"
    write_archive(full, [(image, image.repo_tags)], store.blobs)
    dropped = {"oci-layout", "index.json"} if keep == "docker" else {"manifest.json",
                                                                       "repositories"}
    half = _rewrite(full, tmp_path / "half.tar",
                    lambda members: [m for m in members if m[0].name not in dropped])
    [again] = read_archive(half, BlobStore(tmp_path / "fresh"))
    assert _digest(again.config) == image.id
    assert again.layers == image.layers  # gzip layer, its diff_id checked on the docker side
    assert again.tags == image.repo_tags
