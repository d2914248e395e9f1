"""HTTPS registries: certificates are checked unless the registry is local or marked
insecure; a registry's own CA can be added under ~/.config/skiff/certs.d/<host>/."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import RegistryError
from engine.images.reference import Reference
from engine.registry.endpoints import EndpointPolicy
from tests.fixtures.images import read_oci_image
from tests.fixtures.registry import LocalRegistry, ServiceKit

Kit = Callable[..., ServiceKit]


def _pull(kit: ServiceKit, ref: str) -> str:
    image = asyncio.run(kit.service.pull(Reference.parse(ref), unpack=kit.unpack))
    return image.id


def test_local_tls_registry_is_used_over_https(make_registry: Callable[..., LocalRegistry],
                                               busybox_oci: Path, registry_service: Kit) -> None:
    registry = make_registry(tls=True)
    registry.push(busybox_oci, "latest", "tls/busybox")
    kit = registry_service()

    async def scheme() -> str:
        async with kit.service.session(registry.host) as session:
            assert session.endpoint is not None
            return session.endpoint.scheme

    assert asyncio.run(scheme()) == "https"
    assert _pull(kit, f"{registry.host}/tls/busybox") == read_oci_image(busybox_oci).image_id


def test_certificate_is_verified_unless_its_ca_is_trusted(
        make_registry: Callable[..., LocalRegistry], busybox_oci: Path, registry_service: Kit,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    registry = make_registry(tls=True)
    registry.push(busybox_oci, "latest", "tls/busybox")
    kit = registry_service()
    # As for any registry on the network: HTTPS only, with certificate checks.
    kit.service.policy = EndpointPolicy(local_is_insecure=False)
    ref = f"{registry.host}/tls/busybox"
    with pytest.raises(RegistryError) as caught:
        _pull(kit, ref)
    assert str(caught.value) == (
        f"cannot verify the TLS certificate of {registry.host} (self-signed certificate); "
        f"if you trust it, add its CA to ~/.config/skiff/certs.d/{registry.host}/ca.crt "
        "or mark the registry insecure (SKIFF_INSECURE_REGISTRIES)")
    assert kit.images.list() == []

    assert registry.certificate is not None
    certs = tmp_path / "config" / "skiff" / "certs.d" / registry.host
    certs.mkdir(parents=True)
    shutil.copy(registry.certificate, certs / "ca.crt")
    kit.service.policy = EndpointPolicy(local_is_insecure=False)
    assert _pull(kit, ref) == read_oci_image(busybox_oci).image_id


def test_plain_http_is_refused_unless_insecure(fresh_registry: LocalRegistry,
                                               registry_service: Kit) -> None:
    kit = registry_service()
    kit.service.policy = EndpointPolicy(local_is_insecure=False)
    with pytest.raises(RegistryError, match=f"cannot speak TLS with {fresh_registry.host} .*"
                                            "mark it insecure"):
        _pull(kit, f"{fresh_registry.host}/any/thing")
    kit.service.policy = EndpointPolicy([fresh_registry.host], local_is_insecure=False)
    with pytest.raises(RegistryError, match="manifest unknown"):
        _pull(kit, f"{fresh_registry.host}/any/thing")
