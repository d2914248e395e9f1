"""The registry client the engine uses: pull, push, login, logout, search, tags.

One ``RegistryClient`` lives as long as its engine. It owns what outlives a
single operation (the Bearer tokens, the endpoint policy) and opens one
``RegistrySession`` per operation. Layer unpacking is not its business: the
engine passes an ``unpack`` coroutine that makes a layer's directory exist (and a
``stream`` one that does it from a descriptor while the layer downloads, and a
``prepare`` one that gets the unpacker ready once the image is found).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from engine.errors import InvalidArgument
from engine.images.blobs import BlobStore
from engine.images.model import Image, Layer
from engine.images.reference import Reference, registry_host
from engine.images.store import ImageStore
from engine.registry.auth import TokenCache
from engine.registry.credentials import Credentials, CredentialStore
from engine.registry.distribution import Distribution, describe
from engine.registry.endpoints import EndpointPolicy, insecure_from_settings
from engine.registry.model import PullProgress, PushProgress, SearchResult
from engine.registry.platforms import Platform
from engine.registry.pull import Puller, StreamUnpack
from engine.registry.push import Pusher
from engine.registry.search import catalog_search, hub_search, list_tags, split_term
from engine.registry.session import RegistrySession

__all__ = ["RegistryClient"]

DEFAULT_CHUNK = 16 << 20


class RegistryClient:
    """``insecure`` adds registries allowed over plain HTTP to the user's settings."""

    def __init__(self, blobs: BlobStore, images: ImageStore, credentials: CredentialStore,
                 insecure: Sequence[str] = (), *, concurrency: int = 3, retries: int = 3,
                 upload_chunk_size: int = DEFAULT_CHUNK) -> None:
        self.blobs = blobs
        self.images = images
        self.credentials = credentials
        self.policy = EndpointPolicy([*insecure, *insecure_from_settings()])
        self.tokens = TokenCache()
        self.concurrency = concurrency
        self.retries = retries
        self.upload_chunk_size = upload_chunk_size

    def session(self, registry: str, credentials: Credentials | None = None) -> RegistrySession:
        """A session with ``registry`` (the stored credentials unless others are given)."""
        found = credentials if credentials is not None else self.credentials.get(registry)
        return RegistrySession(registry, policy=self.policy, credentials=found,
                               tokens=self.tokens)

    async def pull(self, ref: Reference, *, platform: str | None = None,
                   progress: Callable[[PullProgress], None] | None = None,
                   unpack: Callable[[Layer], Awaitable[None]],
                   stream: StreamUnpack | None = None,
                   prepare: Callable[[], Awaitable[None]] | None = None,
                   credentials: Credentials | None = None) -> Image:
        """Fetch ``ref`` into the stores, unpacking each layer as it completes."""
        wanted = Platform.parse(platform) if platform else None
        async with self.session(ref.registry, credentials) as session:
            puller = Puller(session, self.blobs, self.images, progress=progress, unpack=unpack,
                            stream=stream, prepare=prepare, concurrency=self.concurrency,
                            retries=self.retries)
            return await puller.pull(ref, wanted)

    async def push(self, ref: Reference, image: Image, *,
                   progress: Callable[[PushProgress], None] | None = None,
                   credentials: Credentials | None = None) -> str:
        """Upload ``image`` as ``ref``; returns the manifest digest."""
        manifest = self.images.manifest(image.id)
        media_type = self.images.manifest_media_type(image.id)
        async with self.session(ref.registry, credentials) as session:
            pusher = Pusher(session, self.blobs, progress=progress,
                            chunk_size=self.upload_chunk_size, concurrency=self.concurrency)
            return await pusher.push(ref, image, manifest, media_type)

    async def login(self, registry: str, username: str, password: str) -> None:
        """Check the credentials against the registry, then store them (0600)."""
        registry = _registry_name(registry)
        if not username or not password:
            raise InvalidArgument("login needs a username and a password")
        credentials = Credentials(username, password)
        async with self.session(registry, credentials) as session:
            challenge = session.auth.challenge
            if challenge is not None:
                if challenge.scheme == "bearer":
                    await session.auth.token([], fresh=True)
                response = await session.request("GET", "/v2/", scopes=[],
                                                 doing="checking the credentials")
                if response.status_code == 401:
                    raise session.auth.rejected()
                if response.status_code >= 400:
                    raise session.error(response, subject=registry, action="login")
        self.credentials.store(registry, credentials)

    async def logout(self, registry: str) -> bool:
        """Forget the stored credentials; False if Skiff held none for ``registry``."""
        return self.credentials.remove(_registry_name(registry))

    async def search(self, term: str, limit: int = 25) -> list[SearchResult]:
        """Docker Hub search, or ``host:port/term`` through that registry's catalog."""
        if limit < 1:
            raise InvalidArgument("the search limit must be at least 1")
        registry, text = split_term(term)
        if registry == "docker.io":
            return await hub_search(text, limit)
        async with self.session(registry) as session:
            return await catalog_search(session, text, limit)

    async def catalog(self, registry: str, limit: int = 1000, *,
                      page_size: int = 100) -> list[str]:
        """Every repository ``registry`` lists at /v2/_catalog, as pullable names."""
        if limit < 1:
            raise InvalidArgument("the catalog limit must be at least 1")
        async with self.session(_registry_name(registry)) as session:
            found = await catalog_search(session, "", limit, page_size=page_size)
        return [result.name for result in found]

    async def describe(self, ref: Reference) -> Distribution:
        """What the registry holds under ``ref`` (descriptor, platforms), pulling nothing."""
        async with self.session(ref.registry) as session:
            return await describe(session, ref)

    async def tags(self, repository: str, *, page_size: int = 100) -> list[str]:
        ref = Reference.parse(repository)
        async with self.session(ref.registry) as session:
            return await list_tags(session, ref.repository, page_size=page_size)


def _registry_name(text: str) -> str:
    """``https://index.docker.io/v1/`` or ``docker.io`` → docker.io; a host stays a host."""
    name = registry_host(text)
    if not name:
        raise InvalidArgument(f"invalid registry name {text!r}")
    return name

