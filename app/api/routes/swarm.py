"""Swarm, as a dockerd that is in no swarm answers it: every swarm path says so.

Clients probe these (docker-py's tests leave a swarm they might be in, ``docker
info`` asks about the swarm) and tell "not in a swarm" from an error by the
503 and dockerd's sentence.
"""

from __future__ import annotations

from aiohttp import web

from app.api.errors import ApiError
from app.api.routing import Routes

__all__ = ["routes"]

routes = Routes()

NO_SWARM = "This node is not part of a swarm"
NOT_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm '
               'join" to connect this node to swarm and try again.')


async def _no_swarm(request: web.Request) -> web.StreamResponse:
    raise ApiError(503, NO_SWARM)


async def _not_manager(request: web.Request) -> web.StreamResponse:
    raise ApiError(503, NOT_MANAGER)


routes.post("/swarm/leave")(_no_swarm)
routes.post("/swarm/update")(_not_manager)
routes.post("/swarm/unlock")(_not_manager)
routes.get("/swarm/unlockkey")(_not_manager)
routes.get("/swarm")(_not_manager)


async def _unsupported(request: web.Request) -> web.StreamResponse:
    raise ApiError(503, "swarm mode is not supported by Skiff: it runs containers on this "
                        "machine only")


routes.post("/swarm/init")(_unsupported)
routes.post("/swarm/join")(_unsupported)
for _kind in ("services", "nodes", "tasks", "secrets", "configs"):
    routes.get(f"/{_kind}")(_not_manager)
    routes.get(f"/{_kind}/{{id}}")(_not_manager)
    routes.post(f"/{_kind}/create")(_not_manager)
    routes.delete(f"/{_kind}/{{id}}")(_not_manager)
