"""Local image metadata: adding, naming, finding and removing images."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.db import Database
from engine.errors import ImageNotFound, InvalidArgument
from engine.images.blobs import BlobStore, digest_of
from engine.images.model import Image, Layer
from engine.images.store import ImageStore
from tests.fixtures.images import read_oci_image


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "engine.db")
    yield database
    database.close()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path)


@pytest.fixture
def store(db: Database, blobs: BlobStore) -> ImageStore:
    return ImageStore(db, blobs)


def _tar(content: bytes) -> bytes:
    """A layer tar holding one file of ``content``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("file")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def _layer(blobs: BlobStore, content: bytes) -> Layer:
    """A stored layer blob of one file holding ``content``; uncompressed, so its digest
    is its diff_id."""
    tar = _tar(content)
    digest = blobs.put_bytes(tar)
    return Layer(digest, digest, len(tar))


def _add(store: ImageStore, layers: list[Layer], *, tags: tuple[str, ...] = (),
         created: str = "2024-01-01T00:00:00Z", arch: str = "amd64", note: str = "",
         repo_digests: tuple[str, ...] = ()) -> Image:
    config = json.dumps({
        "created": created, "architecture": arch, "os": "linux",
        "config": {"Cmd": ["sh"], "Labels": {"note": note}},
        "rootfs": {"type": "layers", "diff_ids": [la.diff_id for la in layers]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": la.media_type, "digest": la.digest, "size": la.size}
                   for la in layers],
    }).encode()
    return store.add(manifest=manifest, config=config, layers=layers, tags=tags,
                     repo_digests=repo_digests)


def test_add_records_the_image(store: ImageStore, blobs: BlobStore) -> None:
    base, top = _layer(blobs, b"base layer"), _layer(blobs, b"top layer!")
    image = _add(store, [base, top], tags=("busybox",), arch="arm64",
                 created="2023-05-18T22:34:17.105276738Z")
    assert image.id == digest_of(store.config(image.id))
    assert image.repo_tags == ["docker.io/library/busybox:latest"]
    assert image.layers == [base, top]
    assert image.size == len(b"base layer") + len(b"top layer!")  # files, not tars
    assert image.architecture == "arm64"
    assert image.os == "linux"
    assert image.created == "2023-05-18T22:34:17.105276738Z"
    assert image.run_config["Cmd"] == ["sh"]
    assert image.manifest_digest == digest_of(store.manifest(image.id))
    assert blobs.has(image.id) and blobs.has(image.manifest_digest)
    assert store.manifest_media_type(image.id) == "application/vnd.oci.image.manifest.v1+json"
    assert store.list() == [image]
    assert store.diff_ids() == {base.diff_id, top.diff_id}


def test_add_needs_the_layer_blobs_first(store: ImageStore) -> None:
    missing = Layer(digest_of(b"x"), digest_of(b"x"), 1)
    with pytest.raises(InvalidArgument, match="not in the blob store"):
        _add(store, [missing])
    assert store.list() == []


def test_add_refuses_bad_names(store: ImageStore, blobs: BlobStore) -> None:
    layer = _layer(blobs, b"l")
    with pytest.raises(InvalidArgument):
        _add(store, [layer], tags=("Busybox",))
    with pytest.raises(InvalidArgument, match="digest"):
        _add(store, [layer], tags=("busybox@sha256:" + "a" * 64,))
    with pytest.raises(InvalidArgument, match="repo digest"):
        _add(store, [layer], repo_digests=("busybox:latest",))
    assert store.list() == []


def test_get_by_every_docker_form(store: ImageStore, blobs: BlobStore) -> None:
    image = _add(store, [_layer(blobs, b"bb")], tags=("busybox:latest", "localhost:5000/x/y:v1"))
    manifest = image.manifest_digest
    image = _add(store, [_layer(blobs, b"bb")],
                 repo_digests=(f"busybox@{manifest}",))
    hex_id = image.id.removeprefix("sha256:")
    forms = [
        "busybox", "busybox:latest", "library/busybox", "docker.io/library/busybox",
        "docker.io/library/busybox:latest", "index.docker.io/library/busybox",
        "localhost:5000/x/y:v1",
        image.id, hex_id, hex_id[:12], hex_id[:4], hex_id[:1], f"sha256:{hex_id[:7]}",
        f"busybox@{manifest}", f"docker.io/library/busybox@{manifest}",
        f"busybox:latest@{manifest}",
    ]
    for form in forms:
        assert store.get(form).id == image.id, form
    assert image.repo_digests == [f"docker.io/library/busybox@{manifest}"]


@pytest.mark.parametrize("ref", ["busybox:1.36", "alpine", "localhost:5000/x/y",
                                 "Busybox", "sha256:" + "0" * 64, "0" * 64, "zzzz",
                                 "busybox@sha256:" + "1" * 64, ""])
def test_get_unknown_is_image_not_found(store: ImageStore, blobs: BlobStore, ref: str) -> None:
    _add(store, [_layer(blobs, b"bb")], tags=("busybox",))
    with pytest.raises(ImageNotFound, match=f"^No such image: {ref}$"):
        store.get(ref)


def test_ambiguous_id_prefix(store: ImageStore, blobs: BlobStore) -> None:
    layer = _layer(blobs, b"shared")
    ids = [_add(store, [layer], note=str(i)).id.removeprefix("sha256:") for i in range(17)]
    # 17 IDs, 16 hex digits: two share a first character.
    first = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) > 1)
    with pytest.raises(ImageNotFound, match="more than one image"):
        store.get(first)


def test_names_win_over_id_prefixes(store: ImageStore, blobs: BlobStore) -> None:
    a = _add(store, [_layer(blobs, b"a")], note="a")
    prefix = a.id.removeprefix("sha256:")[:6]
    b = _add(store, [_layer(blobs, b"b")], note="b", tags=(prefix,))
    assert store.get(prefix).id == b.id
    assert store.get(a.id[:13]).id == a.id


def test_a_tag_moves_and_leaves_the_old_image_dangling(store: ImageStore,
                                                      blobs: BlobStore) -> None:
    old = _add(store, [_layer(blobs, b"v1")], tags=("app:latest", "app:1"), note="1")
    new = _add(store, [_layer(blobs, b"v2")], tags=("app",), note="2")
    assert store.get("app").id == new.id
    assert store.get(old.id).repo_tags == ["docker.io/library/app:1"]
    assert {i.id for i in store.list()} == {old.id, new.id}
    store.untag("app:1")
    assert store.get(old.id).repo_tags == []


def test_tag_and_untag(store: ImageStore, blobs: BlobStore) -> None:
    image = _add(store, [_layer(blobs, b"x")], tags=("first",))
    store.tag(image.id, "ghcr.io/org/app:2")
    store.tag(image.id, "second:v1")
    assert store.get("ghcr.io/org/app:2").id == image.id
    store.tag(image.id, "first")  # already there: keeps its place
    assert store.get(image.id).repo_tags == [
        "docker.io/library/first:latest", "ghcr.io/org/app:2", "docker.io/library/second:v1"]
    assert store.untag("docker.io/library/second:v1") == image.id
    with pytest.raises(ImageNotFound, match="No such image: second:v1"):
        store.untag("second:v1")
    with pytest.raises(ImageNotFound):
        store.get("second:v1")
    with pytest.raises(ImageNotFound):
        store.tag("sha256:" + "0" * 64, "x")
    with pytest.raises(InvalidArgument):
        store.tag(image.id, "x@sha256:" + "0" * 64)
    with pytest.raises(InvalidArgument):
        store.tag(image.id, "UPPER")


def test_untag_a_repo_digest(store: ImageStore, blobs: BlobStore) -> None:
    image = _add(store, [_layer(blobs, b"x")], tags=("app",))
    name = f"app@{image.manifest_digest}"
    store.add(manifest=store.manifest(image.id), config=store.config(image.id),
              layers=image.layers, repo_digests=(name,))
    assert store.untag(name) == image.id
    assert store.get(image.id).repo_digests == []
    assert store.get("app").id == image.id


def test_remove_keeps_what_other_images_share(store: ImageStore, blobs: BlobStore) -> None:
    shared, only_a, only_b = (_layer(blobs, c) for c in (b"shared", b"only a", b"only b"))
    a = _add(store, [shared, only_a], tags=("a",))
    b = _add(store, [shared, only_b], tags=("b",))

    assert store.remove(a.id) == [only_a.diff_id]
    assert not blobs.has(only_a.digest)
    assert not blobs.has(a.id) and not blobs.has(a.manifest_digest)
    assert blobs.has(shared.digest)
    with pytest.raises(ImageNotFound):
        store.get("a")
    assert store.get("b") == b

    assert store.remove(b.id) == [shared.diff_id, only_b.diff_id]
    assert store.list() == []
    assert list(blobs.digests()) == []
    with pytest.raises(ImageNotFound):
        store.remove(b.id)


def test_readding_an_image_replaces_its_manifest(store: ImageStore, blobs: BlobStore) -> None:
    plain = _layer(blobs, b"layer")
    first = _add(store, [plain], tags=("app:1",))
    # The same config from another source: the layer stored compressed.
    compressed = Layer(blobs.put_bytes(b"\x1f\x8b pretend gzip"), plain.diff_id, 16,
                       "application/vnd.oci.image.layer.v1.tar+gzip")
    manifest = json.loads(store.manifest(first.id))
    manifest["layers"] = [{"mediaType": compressed.media_type, "digest": compressed.digest,
                           "size": compressed.size}]
    second = store.add(manifest=json.dumps(manifest).encode(), config=store.config(first.id),
                       layers=[compressed], tags=("app:2",))
    assert second.id == first.id
    assert second.layers == [compressed]
    assert second.manifest_digest != first.manifest_digest
    assert second.repo_tags == ["docker.io/library/app:1", "docker.io/library/app:2"]
    assert not blobs.has(plain.digest)
    assert not blobs.has(first.manifest_digest)
    assert len(store.list()) == 1


def test_metadata_survives_reopening(tmp_path: Path, blobs: BlobStore) -> None:
    db = Database(tmp_path / "engine.db")
    image = _add(ImageStore(db, blobs), [_layer(blobs, b"kept")], tags=("kept",))
    db.close()
    db = Database(tmp_path / "engine.db")
    try:
        assert ImageStore(db, blobs).get("kept") == image
    finally:
        db.close()


def test_list_newest_first(store: ImageStore, blobs: BlobStore) -> None:
    layer = _layer(blobs, b"l")
    old = _add(store, [layer], created="2020-01-01T00:00:00Z")
    new = _add(store, [layer], created="2024-01-01T00:00:00Z")
    assert [i.id for i in store.list()] == [new.id, old.id]


def _du(blob: Path, tmp_path: Path) -> int:
    """What docker's SIZE counts of a layer unpacked by tar(1): every non-directory's
    lstat size, each inode once."""
    root = tmp_path / "unpacked"
    root.mkdir()
    subprocess.run(["tar", "-xzf", str(blob), "-C", str(root)], check=True)
    inodes: dict[int, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            st = os.lstat(os.path.join(dirpath, name))
            inodes[st.st_ino] = st.st_size
    return sum(inodes.values())


def test_real_busybox_image(store: ImageStore, blobs: BlobStore, busybox_oci: Path,
                            tmp_path: Path) -> None:
    source = read_oci_image(busybox_oci)
    layers = []
    diff_ids = source.config_json["rootfs"]["diff_ids"]
    for desc, diff_id in zip(source.layers, diff_ids, strict=True):
        path = busybox_oci / "blobs" / "sha256" / desc["digest"].removeprefix("sha256:")
        with path.open("rb") as stream:
            blobs.ingest(stream, expected=desc["digest"], size=desc["size"])
        layers.append(Layer(desc["digest"], diff_id, desc["size"], desc["mediaType"]))
    image = store.add(manifest=source.manifest, config=source.config, layers=layers,
                      tags=("busybox",))
    assert image.id == source.image_id
    assert image.manifest_digest == source.manifest_digest
    assert image.size == _du(blobs.path(layers[0].digest), tmp_path)
    assert image.run_config["Cmd"] == ["sh"]
    assert "80/tcp" in image.run_config["ExposedPorts"]
    assert store.get("docker.io/library/busybox:latest") == image
    assert io.BytesIO(store.config(image.id)).read() == source.config


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_size_is_the_layers_files_however_they_came(store: ImageStore,
                                                           blobs: BlobStore,
                                                           compress: str) -> None:
    import asyncio
    import gzip

    import zstandard

    from engine.images.sizes import measure_layers

    content = os.urandom(3000) + bytes(7000)
    tar = _tar(content)  # compresses to far less than its length
    plain = _layer(blobs, content)
    packed = gzip.compress(tar) if compress == "gzip" else zstandard.compress(tar)
    digest = blobs.put_bytes(packed)
    compressed = Layer(digest, plain.diff_id, len(packed), "application/vnd.oci.image."
                       f"layer.v1.tar+{compress}")
    assert compressed.size < plain.size
    image = _add(store, [compressed], tags=("example.com/a:1",))
    assert image.size == len(content)  # measured by add itself
    assert _add(store, [plain]).size == len(content)  # the same image, now from a plain tar
    assert store.unmeasured([plain, compressed]) == []
    store.remove(image.id)
    assert store.unmeasured([compressed]) == [compressed]  # forgotten with its last image
    blobs.put_bytes(packed)
    asyncio.run(measure_layers(store, [compressed]))
    assert store.unmeasured([compressed]) == []
    store.record_sizes({compressed.diff_id: 1})  # what a measure recorded is what counts
    assert _add(store, [compressed]).size == 1
