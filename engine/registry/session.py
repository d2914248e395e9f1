"""One conversation with one registry: endpoint choice, authentication, requests.

A session starts with the ``/v2/`` ping, which picks the endpoint (HTTPS, or
plain HTTP where the policy allows it) and learns the registry's
authentication challenge. Every request then carries the Authorization header
for the scopes it needs, and one 401 is answered by asking for a fresh token
(the registry may want a wider scope than we guessed). Redirects are followed;
httpx drops the Authorization header when a redirect leaves the registry's
host (blob downloads redirect to storage services). Transport failures leave
here as ``RegistryError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx

from engine.errors import RegistryError
from engine.images.reference import api_host
from engine.registry.auth import Authorizer, TokenCache
from engine.registry.credentials import Credentials
from engine.registry.endpoints import Endpoint, EndpointPolicy
from engine.registry.responses import response_error, transport_error

__all__ = ["RegistrySession", "pull_scope", "push_scope"]

USER_AGENT = "skiff/0.1"
_TIMEOUT = httpx.Timeout(60.0, connect=30.0)

Content = bytes | Callable[[], AsyncIterator[bytes]] | None


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


class RegistrySession:
    """Use as ``async with RegistrySession(...) as session``."""

    def __init__(self, registry: str, *, policy: EndpointPolicy,
                 credentials: Credentials | None, tokens: TokenCache) -> None:
        self.registry = registry  # as the user names it: docker.io, 127.0.0.1:5000
        self.host = api_host(registry)
        self.policy = policy
        self.credentials = credentials
        self._clients: dict[tuple[str, bool], httpx.AsyncClient] = {}
        self.endpoint: Endpoint | None = None
        self.auth = Authorizer(registry, credentials, tokens, self._token_client,
                               allow_plain_http=policy.is_insecure(self.host))

    async def __aenter__(self) -> RegistrySession:
        try:
            await self.ping()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    @property
    def base_url(self) -> str:
        if self.endpoint is None:
            raise RegistryError(f"no connection to {self.registry} yet")
        return self.endpoint.base_url

    # -- the ping ----------------------------------------------------------------
    async def ping(self) -> httpx.Response:
        """GET /v2/ on each allowed endpoint until one answers; learn its challenge."""
        failure: httpx.HTTPError | None = None
        for endpoint in self.policy.candidates(self.registry):
            client = self._client(endpoint)
            try:
                response = await client.get(f"{endpoint.base_url}/v2/")
            except httpx.HTTPError as e:
                failure = e
                continue
            self.endpoint = endpoint
            if response.status_code == 401 and not self.auth.learn(response):
                raise RegistryError(f"{self.registry} asks for an authentication method "
                                    "Skiff does not speak: "
                                    f"{response.headers.get('www-authenticate', '?')!r}")
            if response.status_code == 429:
                raise response_error(response, registry=self.registry,
                                     subject=self.registry, action="contact")
            return response
        assert failure is not None
        raise transport_error(failure, registry=self.registry,
                              doing="checking its API (/v2/)") from None

    # -- requests ------------------------------------------------------------------
    async def request(self, method: str, path: str, *, scopes: Sequence[str],
                      doing: str, headers: Mapping[str, str] | None = None,
                      content: Content = None,
                      params: Mapping[str, Any] | None = None) -> httpx.Response:
        """A request whose (small) body is read; the caller checks the status."""
        async with self.stream(method, path, scopes=scopes, doing=doing, headers=headers,
                               content=content, params=params) as response:
            try:
                await response.aread()
            except httpx.HTTPError as e:
                raise transport_error(e, registry=self.registry, doing=doing) from None
        return response

    @asynccontextmanager
    async def stream(self, method: str, path: str, *, scopes: Sequence[str], doing: str,
                     headers: Mapping[str, str] | None = None, content: Content = None,
                     params: Mapping[str, Any] | None = None,
                     ) -> AsyncIterator[httpx.Response]:
        """A request whose body the caller streams; ``path`` may be a full URL."""
        endpoint = self._endpoint()
        client = self._client(endpoint)
        url = httpx.URL(self.base_url).join(path)
        auth = await self.auth.headers(scopes)
        for attempt in (1, 2):
            body = content() if callable(content) else content
            request = client.build_request(method, url, headers={**(headers or {}), **auth},
                                           content=body, params=params)
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as e:
                raise transport_error(e, registry=self.registry, doing=doing) from None
            if response.status_code == 401 and attempt == 1 and self.auth.learn(response):
                # Our token lacked a scope or expired early, or the registry moved
                # from open to protected: ask once more with what it just told us,
                # unless that would send the very same Authorization again.
                await response.aread()
                fresh = await self.auth.headers(scopes, fresh=True)
                if fresh != auth:
                    await response.aclose()
                    auth = fresh
                    continue
            try:
                yield response
            finally:
                await response.aclose()
            return

    def error(self, response: httpx.Response, *, subject: str,
              action: str = "pull") -> RegistryError:
        """The user-facing error for a failed response about ``subject``."""
        return response_error(response, registry=self.registry, subject=subject,
                              action=action, has_credentials=self.credentials is not None)

    # -- clients -------------------------------------------------------------------
    def _endpoint(self) -> Endpoint:
        if self.endpoint is None:
            raise RegistryError(f"no connection to {self.registry} yet")
        return self.endpoint

    def _client(self, endpoint: Endpoint) -> httpx.AsyncClient:
        key = (endpoint.host, endpoint.verify)
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                verify=self.policy.ssl_context(endpoint),
                follow_redirects=True,
                timeout=_TIMEOUT,
                headers={"User-Agent": USER_AGENT},
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            )
            self._clients[key] = client
        return client

    def _token_client(self, url: httpx.URL) -> httpx.AsyncClient:
        """The client for a token service: it is checked like any other host."""
        host = url.host if url.port is None else f"{url.host}:{url.port}"
        verify = not self.policy.is_insecure(host)
        return self._client(Endpoint(host, url.scheme, verify))
