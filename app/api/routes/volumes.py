"""Volumes: list (``{"Volumes": [...], "Warnings": []}``), inspect, create, remove, prune.

Skiff's volumes are local directories; ``Driver`` other than ``local`` and
driver options are refused in one line rather than ignored.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.api import params
from app.api.backend import engine_of
from app.api.bodytypes import check_body
from app.api.errors import ApiError
from app.api.filters import Filters, prune_filter
from app.api.routing import Routes
from app.api.versions import parse_version

__all__ = ["routes"]

routes = Routes()

VOLUME_FILTERS = ("dangling", "driver", "label", "label!", "name")


def volume_json(volume: Any, *, size: int | None = None, links: int | None = None
                ) -> dict[str, Any]:
    entry: dict[str, Any] = volume.docker_json()
    entry["Labels"] = dict(volume.labels)
    entry["Options"] = {}
    if size is not None:
        entry["UsageData"] = {"Size": size, "RefCount": links if links is not None else -1}
    return entry


@routes.get("/volumes")
async def list_volumes(request: web.Request) -> web.StreamResponse:
    found = Filters(params.filters(request, VOLUME_FILTERS))
    engine = engine_of(request)
    volumes = await engine.volumes.list()
    dangling = found.boolean("dangling")
    used: set[str] = set()
    if dangling is not None:
        used = {m.source for c in await engine.containers.list(all=True)
                for m in c.config.mounts if m.type == "volume"}
    kept = [v for v in volumes
            if found.any_matches("name", [v.name], substring=True)
            and found.any_matches("driver", ["local"])
            and found.labels_match(v.labels) and found.labels_absent(v.labels)
            and (dangling is None or (v.name not in used) == dangling)]
    return web.json_response({"Volumes": [volume_json(v) for v in kept], "Warnings": []})


@routes.get("/volumes/{name}")
async def inspect_volume(request: web.Request) -> web.StreamResponse:
    volume = await engine_of(request).volumes.get(request.match_info["name"])
    return web.json_response(volume_json(volume))


@routes.post("/volumes/create")
async def create_volume(request: web.Request) -> web.StreamResponse:
    body = await params.json_body(request, required=False)
    check_body(body, "VolumeCreateOptions")
    driver = str(body.get("Driver") or "local")
    if driver != "local":
        raise ApiError(404, f'plugin "{driver}" not found: Skiff volumes use the local driver')
    if body.get("DriverOpts"):
        raise ApiError(400, "volume driver options are not supported by Skiff: create the "
                            "volume without DriverOpts")
    labels = body.get("Labels") or {}
    if not isinstance(labels, dict):
        raise ApiError(400, "volume Labels must be an object of strings")
    volume = await engine_of(request).volumes.create(
        str(body.get("Name") or ""), {str(k): str(v) for k, v in labels.items()})
    return web.json_response(volume_json(volume), status=201)


@routes.delete("/volumes/{name}")
async def remove_volume(request: web.Request) -> web.StreamResponse:
    await engine_of(request).volumes.remove(request.match_info["name"],
                                           force=params.flag(request, "force"))
    return web.Response(status=204)


@routes.post("/volumes/prune")
async def prune_volumes(request: web.Request) -> web.StreamResponse:
    found = Filters(params.filters(request, ("all", "label", "label!")))
    # From API 1.42 on, prune takes only anonymous volumes unless all=true.
    version = request.match_info.get("api_version", "")
    recent = not version or parse_version(version[1:]) >= (1, 42)
    every = found.boolean("all") is True or not recent
    pruned = await engine_of(request).volumes.prune(anonymous_only=not every,
                                                    chosen=prune_filter(found))
    return web.json_response({"VolumesDeleted": pruned.deleted or None,
                              "SpaceReclaimed": pruned.reclaimed})
