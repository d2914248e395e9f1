"""The one seam between the API and the engine.

Every handler reaches the engine through :func:`engine_of` and imports engine
types from here, so moving to the engine's public facade is a change in this
file (and the call sites' verbs), not a hunt through every route module.
"""

from __future__ import annotations

from aiohttp import web

from engine import errors
from engine.engine import Engine, parse_since

__all__ = ["ENGINE", "Engine", "engine_of", "errors", "parse_since"]

ENGINE = web.AppKey("engine", Engine)


def engine_of(request: web.Request) -> Engine:
    return request.app[ENGINE]
