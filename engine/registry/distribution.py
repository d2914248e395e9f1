"""What a registry holds under a reference, without pulling it: ``docker manifest``'s
and the API's ``/distribution/{name}/json`` answer (the top descriptor, and
the platforms it offers: each entry of an index, or the one a manifest's
config names). Clients ask it before pulling, to choose a platform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from engine.errors import DigestMismatch, RegistryError
from engine.images.blobs import digest_of
from engine.images.reference import Reference
from engine.registry.download import fetch_small_blob
from engine.registry.manifests import ACCEPT, Index, parse
from engine.registry.platforms import Platform
from engine.registry.session import RegistrySession, pull_scope

__all__ = ["Distribution", "describe"]


@dataclass(frozen=True)
class Distribution:
    media_type: str
    digest: str
    size: int
    platforms: list[Platform] = field(default_factory=list)


async def describe(session: RegistrySession, ref: Reference) -> Distribution:
    repository = ref.repository
    reference = ref.digest or ref.tag
    response = await session.request(
        "GET", f"/v2/{repository}/manifests/{reference}", scopes=[pull_scope(repository)],
        headers={"Accept": ACCEPT}, doing=f"fetching the manifest of {ref.familiar}")
    if response.status_code != 200:
        raise session.error(response, subject=f"manifest for {ref.familiar}")
    body = response.content
    digest = digest_of(body)
    if ref.digest and digest != ref.digest:
        raise DigestMismatch(f"{session.registry} sent a manifest for {ref.familiar} whose "
                             f"digest is {digest}, not {ref.digest}")
    document = parse(body, response.headers.get("content-type", ""), ref.familiar)
    if isinstance(document, Index):
        platforms = [entry.platform for entry in document.manifests
                     if entry.platform is not None]
    else:
        config = await fetch_small_blob(session, repository, document.config)
        try:
            doc = json.loads(config)
        except ValueError:
            raise RegistryError(f"the config of {ref.familiar} is not JSON") from None
        platforms = [Platform.from_descriptor(doc)] if isinstance(doc, dict) else []
    return Distribution(document.media_type, digest, len(body), platforms)
