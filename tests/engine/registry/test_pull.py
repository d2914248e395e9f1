"""Pulling from a real registry: reference forms, platforms, layers, progress."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import RegistryError
from engine.images.model import Image, Layer
from engine.images.reference import Reference
from engine.registry.endpoints import EndpointPolicy
from engine.registry.model import PullProgress
from tests.fixtures.images import read_oci_image
from tests.fixtures.registry import LocalRegistry, ServiceKit, skopeo_inspect

Kit = Callable[..., ServiceKit]


def _pull(kit: ServiceKit, ref: str, *, platform: str | None = None,
          events: list[PullProgress] | None = None) -> Image:
    return asyncio.run(kit.service.pull(Reference.parse(ref), platform=platform,
                                        progress=None if events is None else events.append,
                                        unpack=kit.unpack))


def test_docker_hub_names_go_to_the_hub_api_over_https() -> None:
    policy = EndpointPolicy()
    for text, repository in [("busybox", "library/busybox"),
                             ("library/busybox:1.36", "library/busybox"),
                             ("docker.io/library/busybox", "library/busybox"),
                             ("index.docker.io/user/app", "user/app")]:
        ref = Reference.parse(text)
        assert ref.repository == repository
        assert [e.base_url for e in policy.candidates(ref.registry)] == [
            "https://registry-1.docker.io"]
    ghcr = Reference.parse("ghcr.io/org/app@sha256:" + "0" * 64)
    assert [e.base_url for e in policy.candidates(ghcr.registry)] == ["https://ghcr.io"]


@pytest.mark.parametrize("form", ["{host}/test/busybox", "{host}/test/busybox:1.0",
                                  "{host}/test/busybox@{digest}",
                                  "{host}/test/busybox:1.1@{digest}",
                                  "localhost:{port}/test/busybox:1.1"])
def test_every_reference_form(plain_registry: LocalRegistry, busybox_oci: Path,
                              registry_service: Kit, form: str) -> None:
    expected = read_oci_image(busybox_oci)
    text = form.format(host=plain_registry.host, port=plain_registry.port,
                       digest=expected.manifest_digest)
    ref = Reference.parse(text)
    kit = registry_service()
    image = _pull(kit, text)

    assert image.id == expected.image_id
    assert image.manifest_digest == expected.manifest_digest
    assert image.repo_tags == ([] if ref.digest else [ref.canonical])
    assert image.repo_digests == [f"{ref.name}@{expected.manifest_digest}"]
    assert [la.digest for la in image.layers] == [la["digest"] for la in expected.layers]
    assert [la.diff_id for la in image.layers] == \
        expected.config_json["rootfs"]["diff_ids"]
    assert kit.images.get(text).id == image.id
    assert kit.images.manifest(image.id) == expected.manifest
    assert kit.images.config(image.id) == expected.config
    for layer in image.layers:
        assert kit.blobs.has(layer.digest)
    assert kit.unpack.calls == [la.digest for la in image.layers]


def test_multilayer_image_layers_all_unpacked(plain_registry: LocalRegistry,
                                              busybox_multilayer_oci: Path,
                                              registry_service: Kit) -> None:
    expected = read_oci_image(busybox_multilayer_oci)
    kit = registry_service()
    image = _pull(kit, f"{plain_registry.host}/test/multilayer")
    assert image.id == expected.image_id
    assert len(image.layers) == 3
    assert sorted(kit.unpack.calls) == sorted(la["digest"] for la in expected.layers)
    for layer in image.layers:
        assert hashlib.sha256(kit.blobs.read_bytes(layer.digest)).hexdigest() == \
            layer.digest.removeprefix("sha256:")


def test_progress_events_per_layer_then_exists(plain_registry: LocalRegistry,
                                               registry_service: Kit) -> None:
    kit = registry_service()
    events: list[PullProgress] = []
    image = _pull(kit, f"{plain_registry.host}/test/multilayer", events=events)
    by_layer: dict[str, list[PullProgress]] = defaultdict(list)
    for event in events:
        by_layer[event.layer].append(event)
    # Layers only, as docker lists them: never the config blob (the image ID).
    assert set(by_layer) == {la.digest for la in image.layers}
    for layer in image.layers:
        steps = by_layer[layer.digest]
        statuses = [e.status for e in steps]
        assert statuses[0] == "waiting"
        assert statuses[-3:] == ["verifying", "extracting", "done"]
        downloading = [e for e in steps if e.status == "downloading"]
        assert downloading and downloading[-1].current == layer.size
        assert all(e.total == layer.size for e in steps)
        currents = [e.current for e in downloading]
        assert currents == sorted(currents)
        assert set(statuses) == {"waiting", "downloading", "verifying", "extracting", "done"}

    # Everything is here now: a second pull downloads no blob and says so.
    events.clear()
    kit.unpack.calls.clear()
    again = _pull(kit, f"{plain_registry.host}/test/multilayer", events=events)
    assert again.id == image.id
    assert {e.status for e in events} == {"exists"}
    assert {e.layer for e in events} == {la.digest for la in image.layers}
    # The store's images use every layer: each is in place, the unpacker hears of none.
    assert kit.unpack.calls == []


def test_layers_of_a_removed_image_are_unpacked_again(
        plain_registry: LocalRegistry, registry_service: Kit) -> None:
    """Only the store's images say a layer is in place: once the image that used
    them is gone, its layers are fetched and handed to the unpacker again."""
    kit = registry_service()
    image = _pull(kit, f"{plain_registry.host}/test/multilayer")
    kit.images.remove(image.id)
    kit.unpack.calls.clear()
    events: list[PullProgress] = []
    _pull(kit, f"{plain_registry.host}/test/multilayer", events=events)
    assert sorted(kit.unpack.calls) == sorted(la.digest for la in image.layers)
    assert "exists" not in {e.status for e in events}


def test_the_manifest_and_config_are_stored_while_the_layers_come(
        plain_registry: LocalRegistry, busybox_oci: Path, registry_service: Kit) -> None:
    """Not after them, when the image is recorded: a layer's unpack sees them stored."""
    expected = read_oci_image(busybox_oci)
    kit = registry_service()
    seen: list[bool] = []

    async def unpack(layer: Layer) -> None:
        deadline = time.monotonic() + 20
        while not (kit.blobs.has(expected.image_id)
                   and kit.blobs.has(expected.manifest_digest)):
            assert time.monotonic() < deadline, "not stored before the layers were done"
            await asyncio.sleep(0.01)
        seen.append(True)

    asyncio.run(kit.service.pull(Reference.parse(f"{plain_registry.host}/test/busybox"),
                                 platform=None, progress=None, unpack=unpack))
    assert len(seen) == len(expected.layers)


def test_concurrency_bound_of_one_downloads_one_layer_at_a_time(
        plain_registry: LocalRegistry, registry_service: Kit) -> None:
    kit = registry_service(concurrency=1)
    events: list[PullProgress] = []
    _pull(kit, f"{plain_registry.host}/test/multilayer", events=events)
    active: str | None = None
    for event in events:
        if event.status == "downloading" and event.total > 1000:
            assert active in (None, event.layer)
            active = event.layer
        elif event.status == "verifying":
            active = None


def test_index_picks_this_machines_platform(plain_registry: LocalRegistry, busybox_oci: Path,
                                            registry_service: Kit) -> None:
    kit = registry_service()
    ref = f"{plain_registry.host}/test/index"
    image = _pull(kit, ref)
    assert image.id == read_oci_image(busybox_oci).image_id
    index_bytes = skopeo_inspect(plain_registry, ref, raw=True).encode()
    index_digest = "sha256:" + hashlib.sha256(index_bytes).hexdigest()
    assert json.loads(index_bytes)["mediaType"] == "application/vnd.oci.image.index.v1+json"
    # RepoDigests name the index (what a user can pull again), as docker does.
    assert image.repo_digests == [f"{Reference.parse(ref).name}@{index_digest}"]


def test_index_with_platform_override(plain_registry: LocalRegistry, registry_service: Kit) -> None:
    kit = registry_service()
    ref = f"{plain_registry.host}/test/index"
    arm = _pull(kit, ref, platform="linux/arm64")
    assert (arm.os, arm.architecture) == ("linux", "arm64")
    assert arm.config.get("variant") == "v8"
    amd = _pull(kit, ref, platform="linux/amd64")
    assert amd.architecture == "amd64"
    assert amd.id != arm.id
    # The tag follows the last pull, as in docker.
    assert kit.images.get(ref).id == amd.id


def test_index_without_the_wanted_platform_lists_what_it_offers(
        plain_registry: LocalRegistry, registry_service: Kit) -> None:
    kit = registry_service()
    ref = f"{plain_registry.host}/test/index"
    with pytest.raises(RegistryError) as caught:
        _pull(kit, ref, platform="linux/s390x")
    assert str(caught.value) == (
        f"no matching manifest for linux/s390x in the manifest list entries of {ref}:latest; "
        "it offers linux/amd64, linux/arm64/v8 (choose one with --platform)")


def test_single_platform_image_with_other_platform_asked(plain_registry: LocalRegistry,
                                                         registry_service: Kit) -> None:
    kit = registry_service()
    ref = f"{plain_registry.host}/test/busybox"
    with pytest.raises(RegistryError, match=f"{ref}:latest is an image for linux/amd64 only, "
                                            "not for linux/arm64/v8"):
        _pull(kit, ref, platform="linux/arm64")
    assert kit.images.list() == []


def test_unknown_tag_and_repository_are_plain_sentences(plain_registry: LocalRegistry,
                                                        registry_service: Kit) -> None:
    kit = registry_service()
    host = plain_registry.host
    with pytest.raises(RegistryError) as caught:
        _pull(kit, f"{host}/test/busybox:nope")
    assert str(caught.value) == f"manifest for {host}/test/busybox:nope not found: " \
                                "manifest unknown"
    with pytest.raises(RegistryError) as caught:
        _pull(kit, f"{host}/no/such:latest")
    assert str(caught.value) == f"manifest for {host}/no/such:latest not found: " \
                                "manifest unknown"
    digest = "sha256:" + "1" * 64
    with pytest.raises(RegistryError, match=f"manifest for {host}/test/busybox@{digest} "
                                            "not found: manifest unknown"):
        _pull(kit, f"{host}/test/busybox@{digest}")
    assert kit.images.list() == []


def test_bad_platform_argument(plain_registry: LocalRegistry, registry_service: Kit) -> None:
    from engine.errors import InvalidArgument

    kit = registry_service()
    with pytest.raises(InvalidArgument, match="invalid platform 'amd64'"):
        _pull(kit, f"{plain_registry.host}/test/busybox", platform="amd64")


def test_blob_downloads_follow_redirects_without_the_token(
        make_registry: Callable[..., LocalRegistry], busybox_multilayer_oci: Path,
        registry_service: Kit) -> None:
    registry = make_registry(auth="token", redirect=True)
    registry.push(busybox_multilayer_oci, "latest", "public/redirected")
    assert registry.blob_server is not None
    registry.blob_server.requests.clear()
    kit = registry_service()
    image = _pull(kit, f"{registry.host}/public/redirected")
    assert image.id == read_oci_image(busybox_multilayer_oci).image_id
    served = {path.rsplit("/", 2)[-2] for path, _ in registry.blob_server.requests}
    assert {la.digest.removeprefix("sha256:") for la in image.layers} <= served
    for path, headers in registry.blob_server.requests:
        assert "authorization" not in {k.lower() for k in headers}, path
    redirects = [line for line in registry.log().splitlines()
                 if "GET /v2/public/redirected/blobs/" in line and '" 307 ' in line]
    assert len(redirects) >= len(image.layers)
