"""Registry authentication: WWW-Authenticate challenges, Basic, and Bearer tokens.

A registry says how it wants to be authenticated in the ``WWW-Authenticate``
header of a 401 (first on the ``/v2/`` ping). ``Basic`` means sending the
credentials with every request; ``Bearer`` means asking the named token
service (``realm``) for a token covering a ``service`` and a set of ``scope``s
(``repository:library/busybox:pull``), anonymously or with the credentials, and
sending that token. Tokens are kept per realm, service, scopes and user, and
reused until they expire.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from engine.errors import AuthenticationError, RegistryError
from engine.registry.credentials import Credentials

__all__ = ["Authorizer", "Challenge", "TokenCache", "parse_challenges"]

# A token is dropped this long before it expires, to not race the server's clock.
_EXPIRY_MARGIN = 10.0
_DEFAULT_LIFETIME = 60.0  # the token spec's default for a missing expires_in


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercase: basic | bearer
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        return self.params.get("service", "")

    @property
    def scopes(self) -> list[str]:
        scope = self.params.get("scope", "")
        return scope.split(" ") if scope else []


def parse_challenges(header: str) -> list[Challenge]:
    """RFC 7235 challenges: ``Bearer realm="x",service="y", Basic realm="z"``."""
    challenges: list[Challenge] = []
    pos, end = 0, len(header)
    current: Challenge | None = None
    while pos < end:
        while pos < end and header[pos] in " \t,":
            pos += 1
        start = pos
        while pos < end and header[pos] not in " \t,=":
            pos += 1
        token = header[start:pos]
        if not token:
            break
        look = pos
        while look < end and header[look] in " \t":
            look += 1
        if look < end and header[look] == "=" and current is not None:
            pos = look + 1
            while pos < end and header[pos] in " \t":
                pos += 1
            value, pos = _value(header, pos)
            current.params[token.lower()] = value
        else:
            current = Challenge(token.lower(), {})
            challenges.append(current)
    return challenges


def _value(header: str, pos: int) -> tuple[str, int]:
    if pos < len(header) and header[pos] == '"':
        out: list[str] = []
        pos += 1
        while pos < len(header) and header[pos] != '"':
            if header[pos] == "\\" and pos + 1 < len(header):
                pos += 1
            out.append(header[pos])
            pos += 1
        return "".join(out), pos + 1
    start = pos
    while pos < len(header) and header[pos] not in ",":
        pos += 1
    return header[start:pos].strip(), pos


@dataclass
class _Token:
    value: str
    expires: float  # time.monotonic() deadline


class TokenCache:
    """Bearer tokens shared by every session of one service; reused until expiry."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, ...], _Token] = {}
        self.requests = 0  # token requests sent: lets callers see reuse at work

    @staticmethod
    def key(realm: str, service: str, scopes: Iterable[str], user: str) -> tuple[str, ...]:
        return (realm, service, user, *sorted(set(scopes)))

    def get(self, key: tuple[str, ...]) -> str | None:
        token = self._tokens.get(key)
        if token is None or token.expires <= time.monotonic():
            self._tokens.pop(key, None)
            return None
        return token.value

    def put(self, key: tuple[str, ...], value: str, lifetime: float) -> None:
        margin = min(_EXPIRY_MARGIN, lifetime / 4)
        self._tokens[key] = _Token(value, time.monotonic() + lifetime - margin)

    def drop(self, key: tuple[str, ...]) -> None:
        self._tokens.pop(key, None)


class Authorizer:
    """Produces the Authorization header for one registry, from its challenge.

    ``http`` gives the client a token request goes through; ``allow_plain_http``
    says whether credentials may be sent to an ``http://`` realm (only for
    registries that are themselves local or marked insecure).
    """

    def __init__(self, registry: str, credentials: Credentials | None, tokens: TokenCache,
                 http: Callable[[httpx.URL], httpx.AsyncClient], *,
                 allow_plain_http: bool) -> None:
        self.registry = registry
        self.credentials = credentials
        self.tokens = tokens
        self.http = http
        self.allow_plain_http = allow_plain_http
        self.challenge: Challenge | None = None

    def learn(self, response: httpx.Response) -> bool:
        """Take the challenge of a 401; False if it offers no scheme we speak."""
        for challenge in parse_challenges(response.headers.get("www-authenticate", "")):
            if challenge.scheme == "bearer" and challenge.realm:
                self.challenge = challenge
                return True
            if challenge.scheme == "basic":
                self.challenge = challenge
                return True
        return False

    async def headers(self, scopes: Iterable[str], *, fresh: bool = False) -> dict[str, str]:
        challenge = self.challenge
        if challenge is None:
            return {}
        if challenge.scheme == "basic":
            if self.credentials is None:
                return {}
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        wanted = sorted(set(scopes) | set(challenge.scopes))
        return {"Authorization": "Bearer " + await self.token(wanted, fresh=fresh)}

    async def token(self, scopes: list[str], *, fresh: bool = False) -> str:
        challenge = self.challenge
        assert challenge is not None and challenge.scheme == "bearer"
        user = self.credentials.username if self.credentials else ""
        key = TokenCache.key(challenge.realm, challenge.service, scopes, user)
        if not fresh:
            cached = self.tokens.get(key)
            if cached is not None:
                return cached
        value, lifetime = await self._request_token(challenge, scopes)
        self.tokens.put(key, value, lifetime)
        return value

    async def _request_token(self, challenge: Challenge,
                             scopes: list[str]) -> tuple[str, float]:
        realm = httpx.URL(challenge.realm)
        if realm.scheme not in ("https", "http"):
            raise RegistryError(f"{self.registry} names an unusable token service "
                                f"{challenge.realm!r}")
        if realm.scheme == "http" and self.credentials is not None \
                and not self.allow_plain_http:
            raise AuthenticationError(
                f"{self.registry} asks for credentials over plain HTTP ({challenge.realm}); "
                "Skiff refuses to send them unencrypted")
        params: list[tuple[str, str | int | float | bool | None]] = []
        if challenge.service:
            params.append(("service", challenge.service))
        params.extend(("scope", scope) for scope in scopes)
        headers: dict[str, str] = {}
        if self.credentials is not None:
            params.append(("account", self.credentials.username))
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        self.tokens.requests += 1
        try:
            response = await self.http(realm).get(realm, params=params, headers=headers)
        except httpx.HTTPError as e:
            raise RegistryError(f"cannot get a token for {self.registry} from "
                                f"{challenge.realm}: {_reason(e)}") from None
        if response.status_code == 401:
            raise self.rejected()
        if response.status_code == 429:
            raise RegistryError(f"the token service of {self.registry} is rate limiting "
                                "requests; try again later")
        if response.status_code >= 400:
            raise AuthenticationError(
                f"the token service of {self.registry} ({challenge.realm}) refused a token: "
                f"HTTP {response.status_code}{_short_body(response)}")
        try:
            doc: Any = response.json()
        except ValueError:
            doc = None
        value = ""
        if isinstance(doc, dict):
            value = doc.get("token") or doc.get("access_token") or ""
        if not isinstance(value, str) or not value:
            raise RegistryError(f"the token service of {self.registry} sent no token")
        return value, _lifetime(doc)

    def rejected(self) -> AuthenticationError:
        """The error for credentials the registry does not accept (or their absence)."""
        if self.credentials is None:
            return AuthenticationError(
                f"{self.registry} requires you to log in: run `skiff login {self.registry}`")
        return AuthenticationError(
            f"{self.registry} did not accept the username and password of "
            f"{self.credentials.username!r} (wrong username or password?); "
            f"run `skiff login {self.registry}` again")


def _lifetime(doc: dict[str, Any]) -> float:
    expires_in = doc.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 \
        else _DEFAULT_LIFETIME
    issued = doc.get("issued_at")
    if isinstance(issued, str) and issued:
        # A token issued in the past (clock skew, slow answer) lives less long here.
        try:
            when = datetime.fromisoformat(issued.replace("Z", "+00:00"))
            age = time.time() - when.timestamp()
            if 0 < age < lifetime:
                lifetime -= age
        except ValueError:
            pass
    return lifetime


def _reason(error: httpx.HTTPError) -> str:
    return str(error) or type(error).__name__


def _short_body(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return f" ({text[:200]})" if text else ""

