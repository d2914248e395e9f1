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

__all__ = ["RegistryAuth", "credentials_of", "decode_auth"]


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
