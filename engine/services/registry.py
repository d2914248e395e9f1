"""``engine.registry``: what the engine asks of registries beyond moving images
(which ``engine.images`` pulls and pushes): credentials, tags and catalogs.
"""

from __future__ import annotations

from engine.images.reference import Reference
from engine.registry.distribution import Distribution
from engine.services.shared import Shared

__all__ = ["RegistryService"]


class RegistryService:
    def __init__(self, shared: Shared) -> None:
        self._s = shared

    async def login(self, registry: str, username: str, password: str) -> None:
        """Checks the credentials against the registry, then stores them (0600)."""
        await self._s.registry().login(registry, username, password)

    async def logout(self, registry: str) -> None:
        await self._s.registry().logout(registry)

    async def tags(self, repository: str) -> list[str]:
        """The tags a registry lists for the repository."""
        return await self._s.registry().tags(repository)

    async def distribution(self, ref: str) -> Distribution:
        """The registry's descriptor of ``ref`` and the platforms it offers, pulling
        nothing (the API's /distribution/{name}/json); raises RegistryError."""
        return await self._s.registry().describe(Reference.parse(ref))

    async def catalog(self, registry: str, limit: int = 1000) -> list[str]:
        """Repositories a (private) registry lists at /v2/_catalog, as pullable names
        (``127.0.0.1:5000/team/app``); raises RegistryError."""
        return await self._s.registry().catalog(registry, limit)
