"""A project's images from their ``build:`` sections, through the engine's builder, each
tagged with its service's ``image:`` (or ``PROJECT-SERVICE``), as Compose builds them:
for ``compose build``, ``up --build``, and ``up`` of a service whose image is missing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.compose.loader import Project
    from engine.engine import Engine

__all__ = ["build_service", "image_ref"]


def image_ref(project: Project, service: str) -> str:
    return str(project.services[service].get("image") or f"{project.name}-{service}")


async def build_service(engine: Engine, project: Project, service: str,
                        progress: Callable[[str, str, str], None], *, no_cache: bool = False,
                        pull: bool = False) -> str:
    """Build the service's image; its ID."""
    from engine.build.builder import BuildOptions
    from engine.build.context import open_context

    build: dict[str, Any] = project.services[service]["build"]
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(str(a).partition("=")[::2] for a in args)
    options = BuildOptions(dockerfile=str(build.get("dockerfile") or "Dockerfile"),
                           tags=(image_ref(project, service),),
                           build_args={str(k): str(v) for k, v in args.items()},
                           target=str(build.get("target") or ""), no_cache=no_cache,
                           pull=pull, labels={str(k): str(v) for k, v in
                                              (build.get("labels") or {}).items()})
    progress("Service", service, "Building")
    result = await engine.images.build(open_context(str(build["context"])), options)
    progress("Service", service, "Built")
    return result.image_id
