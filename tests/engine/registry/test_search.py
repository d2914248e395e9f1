"""Search (Docker Hub's answer format; a registry's _catalog) and tag listing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from engine.errors import AuthenticationError, InvalidArgument, RegistryError
from engine.registry.model import SearchResult
from engine.registry.search import hub_results, split_term
from tests.fixtures.registry import PASSWORD, USER, LocalRegistry, ServiceKit

Kit = Callable[..., ServiceKit]
ALL = ["test/busybox", "test/index", "test/multilayer", "test/tricky"]


def test_split_term() -> None:
    assert split_term("nginx") == ("docker.io", "nginx")
    assert split_term("bitnami/nginx") == ("docker.io", "bitnami/nginx")
    assert split_term("docker.io/nginx") == ("docker.io", "nginx")
    assert split_term("127.0.0.1:5000/web") == ("127.0.0.1:5000", "web")
    assert split_term("localhost:5000/") == ("localhost:5000", "")
    assert split_term("quay.io/coreos") == ("quay.io", "coreos")


def test_hub_results() -> None:
    doc = {"num_results": 2, "query": "busy", "results": [
        {"name": "busybox", "description": "Busybox base image.", "star_count": 3000,
         "is_official": True, "is_automated": False},
        {"name": "someone/busybox-extra", "description": None, "star_count": 1,
         "is_official": False},
        {"description": "no name: skipped"},
    ]}
    assert hub_results(doc) == [
        SearchResult("busybox", "Busybox base image.", 3000, True),
        SearchResult("someone/busybox-extra", "", 1, False),
    ]
    assert hub_results({"unexpected": True}) == []


def test_search_a_registry_through_its_catalog(plain_registry: LocalRegistry,
                                               registry_service: Kit) -> None:
    kit = registry_service()
    host = plain_registry.host

    def search(term: str, limit: int = 25) -> list[str]:
        return [r.name for r in asyncio.run(kit.service.search(term, limit))]

    assert search(f"{host}/multi") == [f"{host}/test/multilayer"]
    assert search(f"{host}/") == [f"{host}/{name}" for name in ALL]
    assert search(f"{host}/BUSY") == [f"{host}/test/busybox"]
    assert search(f"{host}/nothing-like-this") == []
    assert len(search(f"{host}/test", limit=2)) == 2
    with pytest.raises(InvalidArgument):
        search(f"{host}/", limit=0)


def test_catalog_follows_link_pagination(plain_registry: LocalRegistry,
                                         registry_service: Kit) -> None:
    kit = registry_service()
    before = plain_registry.log().count("GET /v2/_catalog")
    names = asyncio.run(kit.service.catalog(plain_registry.host, page_size=1))
    assert names == [f"{plain_registry.host}/{name}" for name in ALL]
    log = plain_registry.log()
    # One request a page: the first, then one per Link "next" (with last=...).
    assert log.count("GET /v2/_catalog") - before >= len(ALL)
    assert "GET /v2/_catalog?last=test%2Fbusybox&n=1" in log


def test_tags_of_a_repository(plain_registry: LocalRegistry, registry_service: Kit) -> None:
    kit = registry_service()
    host = plain_registry.host
    assert asyncio.run(kit.service.tags(f"{host}/test/busybox")) == ["1.0", "1.1", "latest"]
    # A page size the registry may honour with Link pagination (newer ones do) or not.
    assert asyncio.run(kit.service.tags(f"{host}/test/busybox:ignored", page_size=1)) == \
        ["1.0", "1.1", "latest"]
    with pytest.raises(RegistryError, match=f"repository {host}/no/such not found: "
                                            "repository name not known to registry"):
        asyncio.run(kit.service.tags(f"{host}/no/such"))


def test_tags_and_catalog_need_login_on_token_registry(token_registry: LocalRegistry,
                                                       registry_service: Kit) -> None:
    kit = registry_service()
    host = token_registry.host
    assert asyncio.run(kit.service.tags(f"{host}/public/busybox")) == ["latest"]
    with pytest.raises(AuthenticationError):
        asyncio.run(kit.service.tags(f"{host}/private/busybox"))
    with pytest.raises(AuthenticationError):
        asyncio.run(kit.service.catalog(host))
    asyncio.run(kit.service.login(host, USER, PASSWORD))
    assert asyncio.run(kit.service.tags(f"{host}/private/busybox")) == ["latest"]
    names = asyncio.run(kit.service.catalog(host))
    assert f"{host}/private/busybox" in names and f"{host}/public/busybox" in names
