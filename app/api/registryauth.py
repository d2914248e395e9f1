"""``X-Registry-Auth``: the credentials a client sends along with pull and push.

The header is base64url JSON, ``{"username", "password", "serveraddress"}`` or
``{"identitytoken"}``; clients send ``{}`` (or nothing) when they have none.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from aiohttp import web

from app.api.errors import ApiError

__all__ = ["RegistryAuth", "credentials_for", "credentials_of", "decode_auth"]

_HUB_NAMES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


@dataclass(frozen=True)
class RegistryAuth:
    username: str = ""
    password: str = ""
    server: str = ""
    identity_token: str = ""


def decode_auth(header: str) -> RegistryAuth | None:
    """The header's credentials; None when it carries none."""
    text = header.strip()
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        doc = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid X-Registry-Auth header: not base64-encoded JSON") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "invalid X-Registry-Auth header: expected a JSON object")
    found = RegistryAuth(str(doc.get("username") or ""), str(doc.get("password") or ""),
                         str(doc.get("serveraddress") or ""),
                         str(doc.get("identitytoken") or ""))
    return found if found != RegistryAuth() else None


def credentials_of(request: web.Request) -> RegistryAuth | None:
    return decode_auth(request.headers.get("X-Registry-Auth", ""))


def _host(server: str) -> str:
    name = server.strip().lower()
    for prefix in ("https://", "http://"):
        name = name.removeprefix(prefix)
    name = name.split("/", 1)[0]
    return "docker.io" if name in _HUB_NAMES else name


def credentials_for(request: web.Request, registry: str) -> tuple[str, str] | None:
    """(user, password) the request carries for ``registry`` (docker.io,
    127.0.0.1:5000); None: use what ``skiff login`` stored. Credentials the
    client meant for another registry are never sent to this one."""
    auth = credentials_of(request)
    if auth is None or not auth.username or not auth.password:
        return None
    if auth.server and _host(auth.server) != _host(registry):
        return None
    return auth.username, auth.password
