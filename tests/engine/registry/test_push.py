"""Pushing to a real registry; skopeo inspect of the result is the judge."""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import AuthenticationError
from engine.images.model import Image
from engine.images.reference import Reference
from engine.registry.model import PushProgress
from tests.fixtures.registry import PASSWORD, USER, LocalRegistry, ServiceKit, skopeo_inspect

Kit = Callable[..., ServiceKit]


def _pull(kit: ServiceKit, ref: str) -> Image:
    return asyncio.run(kit.service.pull(Reference.parse(ref), unpack=kit.unpack))


def _push(kit: ServiceKit, ref: str, image: Image,
          events: list[PushProgress] | None = None) -> str:
    return asyncio.run(kit.service.push(Reference.parse(ref), image,
                                        progress=None if events is None else events.append))


def _statuses(events: list[PushProgress]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for event in events:
        if not found[event.layer] or found[event.layer][-1] != event.status:
            found[event.layer].append(event.status)
    return found


def _check_with_skopeo(registry: LocalRegistry, ref: str, kit: ServiceKit, image: Image,
                       digest: str) -> None:
    raw = skopeo_inspect(registry, ref, raw=True)
    assert raw.encode() == kit.images.manifest(image.id)  # byte for byte
    info = skopeo_inspect(registry, ref)
    assert info["Digest"] == digest == image.manifest_digest
    assert info["Layers"] == [la.digest for la in image.layers]
    assert info["Architecture"] == image.architecture
    assert info["Os"] == image.os
    config = skopeo_inspect_config(registry, ref)
    assert config == image.config


def skopeo_inspect_config(registry: LocalRegistry, ref: str) -> dict[str, object]:
    import subprocess

    done = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--config", "--raw",
                           *(["--creds", ":".join(registry.credentials)]
                             if registry.credentials else []),
                           f"docker://{ref}"], capture_output=True, text=True, check=True)
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def test_push_then_skopeo_inspect_matches(plain_registry: LocalRegistry,
                                          make_registry: Callable[..., LocalRegistry],
                                          registry_service: Kit) -> None:
    target = make_registry()
    kit = registry_service()
    image = _pull(kit, f"{plain_registry.host}/test/tricky")
    ref = f"{target.host}/pushed/tricky:v1"
    events: list[PushProgress] = []
    digest = _push(kit, ref, image, events)
    _check_with_skopeo(target, ref, kit, image, digest)

    statuses = _statuses(events)
    assert set(statuses) == {la.digest for la in image.layers}  # docker: never the config
    for blob, steps in statuses.items():
        assert steps == ["waiting", "pushing", "done"], blob
    sizes = {la.digest: la.size for la in image.layers}
    for event in events:
        if event.status == "done" and event.layer in sizes:
            assert event.current == event.total == sizes[event.layer]

    # Pushing again uploads nothing: every blob is already there.
    events.clear()
    assert _push(kit, ref, image, events) == digest
    assert {s[-1] for s in _statuses(events).values()} == {"exists"}


def test_blobs_from_another_repository_are_mounted(busybox_oci: Path,
                                                   make_registry: Callable[..., LocalRegistry],
                                                   registry_service: Kit) -> None:
    registry = make_registry()
    registry.push(busybox_oci, "latest", "src/busybox:latest")
    kit = registry_service()
    image = _pull(kit, f"{registry.host}/src/busybox")
    ref = f"{registry.host}/dst/busybox:copy"
    events: list[PushProgress] = []
    digest = _push(kit, ref, image, events)
    assert {s[-1] for s in _statuses(events).values()} == {"mounted"}
    mounts = [line for line in registry.log().splitlines()
              if "POST /v2/dst/busybox/blobs/uploads/?" in line and "mount=" in line
              and "from=src%2Fbusybox" in line and '" 201 ' in line]
    assert len(mounts) == 1 + len(image.layers)
    _check_with_skopeo(registry, ref, kit, image, digest)


def test_large_blobs_go_up_in_chunks(plain_registry: LocalRegistry,
                                     make_registry: Callable[..., LocalRegistry],
                                     registry_service: Kit) -> None:
    target = make_registry()
    chunk = 256 << 10
    kit = registry_service(upload_chunk_size=chunk)
    image = _pull(kit, f"{plain_registry.host}/test/multilayer")
    ref = f"{target.host}/chunked/multilayer:latest"
    digest = _push(kit, ref, image)
    _check_with_skopeo(target, ref, kit, image, digest)
    patches = [line for line in target.log().splitlines()
               if '"PATCH /v2/chunked/multilayer/blobs/uploads/' in line and '" 202 ' in line]
    big = [la for la in image.layers if la.size > chunk]
    assert big
    assert len(patches) >= sum(-(-la.size // chunk) for la in big)


def test_push_needs_login_on_basic_registry(plain_registry: LocalRegistry,
                                            basic_registry: LocalRegistry,
                                            registry_service: Kit) -> None:
    kit = registry_service()
    image = _pull(kit, f"{plain_registry.host}/test/busybox")
    ref = f"{basic_registry.host}/pushed/busybox:latest"
    with pytest.raises(AuthenticationError, match=f"requires you to log in \\(run `skiff login "
                                                  f"{basic_registry.host}`\\)"):
        _push(kit, ref, image)
    asyncio.run(kit.service.login(basic_registry.host, USER, PASSWORD))
    digest = _push(kit, ref, image)
    _check_with_skopeo(basic_registry, ref, kit, image, digest)


def test_push_with_token_auth(plain_registry: LocalRegistry, token_registry: LocalRegistry,
                              registry_service: Kit) -> None:
    kit = registry_service()
    image = _pull(kit, f"{plain_registry.host}/test/busybox")
    ref = f"{token_registry.host}/pushed/busybox:v2"
    with pytest.raises(AuthenticationError, match=re.escape(
            f"push access to {token_registry.host}/pushed/busybox denied: the repository "
            "does not exist or requires you to log in")):
        _push(kit, ref, image)
    asyncio.run(kit.service.login(token_registry.host, USER, PASSWORD))
    digest = _push(kit, ref, image)
    _check_with_skopeo(token_registry, ref, kit, image, digest)
