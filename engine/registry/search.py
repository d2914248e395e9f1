"""Finding repositories and their tags.

Docker Hub has a search service (``index.docker.io/v1/search``). Other
registries only offer the distribution API's listings: ``/v2/_catalog`` for
repositories (filtered here by the search term) and ``/v2/<name>/tags/list``;
both are paginated with ``?n=`` and a ``Link: <...>; rel="next"`` header.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from engine.errors import InvalidArgument, RegistryError
from engine.images.reference import registry_host
from engine.registry.model import SearchResult
from engine.registry.responses import response_error, transport_error
from engine.registry.session import USER_AGENT, RegistrySession, pull_scope

__all__ = [
    "HUB_SEARCH_URL",
    "catalog_search",
    "hub_results",
    "hub_search",
    "list_tags",
    "split_term",
]

HUB_SEARCH_URL = "https://index.docker.io/v1/search"
CATALOG_SCOPE = "registry:catalog:*"
_HOSTLIKE = re.compile(r"^(localhost|\[[0-9a-fA-F:]+\]|[^/]*[.:][^/]*)(?::\d+)?$")
_MAX_PAGES = 1000


def split_term(term: str) -> tuple[str, str]:
    """``127.0.0.1:5000/web`` → (``127.0.0.1:5000``, ``web``); ``nginx`` → (``docker.io``, ..)."""
    term = term.strip()
    first, slash, rest = term.partition("/")
    if slash and _HOSTLIKE.match(first):
        return registry_host(first), rest
    return "docker.io", term


async def hub_search(term: str, limit: int) -> list[SearchResult]:
    if not term:
        raise InvalidArgument("search needs a term (Docker Hub cannot list everything)")
    async with httpx.AsyncClient(verify=ssl.create_default_context(), follow_redirects=True,
                                 timeout=30.0, headers={"User-Agent": USER_AGENT}) as client:
        try:
            response = await client.get(HUB_SEARCH_URL, params={"q": term, "n": limit})
        except httpx.HTTPError as e:
            raise transport_error(e, registry="docker.io", doing="searching") from None
    if response.status_code != 200:
        raise response_error(response, registry="docker.io", subject=f"search for {term!r}",
                             action="search")
    try:
        doc = response.json()
    except ValueError:
        raise RegistryError("Docker Hub sent a search answer that is not JSON") from None
    return hub_results(doc)[:limit]


def hub_results(doc: Any) -> list[SearchResult]:
    """Docker Hub's v1 search document → results (unknown fields ignored)."""
    entries = doc.get("results") if isinstance(doc, dict) else None
    results: list[SearchResult] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        stars = entry.get("star_count")
        results.append(SearchResult(
            name=entry["name"].removeprefix("library/"),
            description=str(entry.get("description") or ""),
            stars=stars if isinstance(stars, int) else 0,
            official=bool(entry.get("is_official")),
        ))
    return results


async def catalog_search(session: RegistrySession, term: str, limit: int, *,
                         page_size: int = 100) -> list[SearchResult]:
    """Repositories of a registry whose name contains ``term``."""
    needle = term.lower()
    results: list[SearchResult] = []
    async for page in _pages(session, "/v2/_catalog", "repositories", [CATALOG_SCOPE],
                             page_size, subject=f"the catalog of {session.registry}"):
        for name in page:
            if needle in name.lower():
                results.append(SearchResult(name=f"{session.registry}/{name}"))
                if len(results) >= limit:
                    return results
    return results


async def list_tags(session: RegistrySession, repository: str, *,
                    page_size: int = 100) -> list[str]:
    tags: list[str] = []
    async for page in _pages(session, f"/v2/{repository}/tags/list", "tags",
                             [pull_scope(repository)], page_size,
                             subject=f"repository {session.registry}/{repository}"):
        tags.extend(page)
    return sorted(set(tags), key=_natural)


async def _pages(session: RegistrySession, path: str, key: str, scopes: list[str],
                 page_size: int, *, subject: str) -> AsyncIterator[list[str]]:
    url: str = path
    params: Mapping[str, Any] | None = {"n": page_size}
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        response = await session.request("GET", url, scopes=scopes, params=params,
                                         doing=f"listing {subject}")
        if response.status_code != 200:
            raise session.error(response, subject=subject, action="list")
        try:
            doc = response.json()
        except ValueError:
            raise RegistryError(f"{session.registry} sent a listing of {subject} that is "
                                "not JSON") from None
        values = doc.get(key) if isinstance(doc, dict) else None
        yield [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
        following = response.links.get("next", {}).get("url")
        if not following or following in seen:
            return
        seen.add(following)
        url, params = following, None  # the next link carries its own query
    raise RegistryError(f"{session.registry} kept paginating {subject}; stopped after "
                        f"{_MAX_PAGES} pages")


def _natural(text: str) -> list[tuple[int, int | str]]:
    """Sort key: 1.9 before 1.10, numbers before words at the same place."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", text) if part]
