"""How route modules plug into the server, and Docker's version-prefixed paths.

The convention: one module per resource under :mod:`app.api.routes` (for
example ``app/api/routes/containers.py``) makes a table and decorates its
handlers with Docker's unprefixed paths::

    from app.api.routing import Routes

    routes = Routes()

    @routes.get("/containers/json")
    async def list_containers(request: web.Request) -> web.StreamResponse: ...

and its name goes into ``app.api.routes.MODULES``. :func:`install` registers
each path twice, as it is and under ``/v{version}``, so ``/containers/json``
and ``/v1.44/containers/json`` reach the same handler; the version middleware
checks the prefix against our range.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

__all__ = ["Handler", "Route", "Routes", "install"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

VERSION_PREFIX = r"/{api_version:v[0-9]+\.[0-9]+}"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler


class Routes:
    """A route module's table of (method, path, handler)."""

    def __init__(self) -> None:
        self.entries: list[Route] = []

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.entries.append(Route(method, path, handler))
            return handler
        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("GET", path)

    def head(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("HEAD", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("POST", path)

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("PUT", path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path)


def install(app: web.Application, modules: tuple[str, ...]) -> None:
    """Register every route of the named ``app.api.routes`` modules, with and
    without the version prefix. GET routes answer HEAD too unless a module
    registers its own HEAD handler for the path."""
    tables = [importlib.import_module(f"app.api.routes.{name}").routes for name in modules]
    entries = [entry for table in tables for entry in table.entries]
    own_head = {entry.path for entry in entries if entry.method == "HEAD"}
    for entry in entries:
        for path in (entry.path, VERSION_PREFIX + entry.path):
            if entry.method == "GET":
                app.router.add_get(path, entry.handler,
                                   allow_head=entry.path not in own_head)
            else:
                app.router.add_route(entry.method, path, entry.handler)
