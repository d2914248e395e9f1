"""Registry endpoints that are no image's: ``/auth`` (login, as ``skiff login``
does: the credentials are checked against the registry, then kept for later
pulls and pushes) and ``/distribution/{name}/json``.
"""

from __future__ import annotations

from aiohttp import web

from app.api import params
from app.api.backend import engine_of
from app.api.errors import ApiError
from app.api.routing import Routes

__all__ = ["routes"]

routes = Routes()

DOCKER_HUB = "https://index.docker.io/v1/"


@routes.post("/auth")
async def login(request: web.Request) -> web.StreamResponse:
    body = await params.json_body(request)
    username = str(body.get("username") or "")
    password = str(body.get("password") or "")
    if body.get("identitytoken") and not password:
        raise ApiError(400, "identity tokens are not supported by Skiff: log in with a "
                            "username and password")
    server = str(body.get("serveraddress") or DOCKER_HUB)
    await engine_of(request).registry.login(server, username, password)
    return web.json_response({"Status": "Login Succeeded", "IdentityToken": ""})


@routes.get("/distribution/{name:.+}/json")
async def distribution(request: web.Request) -> web.StreamResponse:
    found = await engine_of(request).registry.distribution(request.match_info["name"])
    return web.json_response({
        "Descriptor": {"mediaType": found.media_type, "digest": found.digest,
                       "size": found.size},
        "Platforms": [{"architecture": p.architecture, "os": p.os,
                       **({"variant": p.variant} if p.variant else {})}
                      for p in found.platforms]})
