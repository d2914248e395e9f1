"""The route modules, one per resource; :func:`app.api.routing.install` loads them.

Add a module's name here to serve its routes (see :mod:`app.api.routing`).
"""

from __future__ import annotations

__all__ = ["MODULES"]

MODULES: tuple[str, ...] = (
    "system",
    "containers",
    "containerio",
    "exec",
    "images",
    "networks",
    "volumes",
    "registry",
    "diskusage",
    "build",
    "swarm",
)
