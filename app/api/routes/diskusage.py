"""``GET /system/df``: what images, containers and volumes take on disk, in
dockerd's shape (``docker system df`` and ``-v`` read it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.api.backend import engine_of
from app.api.imagejson import image_summary
from app.api.routes.volumes import volume_json
from app.api.routing import Routes
from app.api.versions import API_VERSION, parse_version
from app.api.views import container_summary
from engine import NotFound

__all__ = ["routes"]

routes = Routes()

KINDS = ("container", "image", "volume", "build-cache")  # dockerd's ?type= values


def _container_entry(usage: Any, run: dict[str, Any]) -> dict[str, Any]:
    entry = container_summary(usage.container, run, {})
    entry["SizeRw"] = usage.size_rw
    entry["SizeRootFs"] = usage.size_root_fs
    return entry


def _cache_entry(record: Any) -> dict[str, Any]:
    """dockerd's BuildCache record (its ``Parent`` and ``Parents`` left empty)."""
    return {"ID": record.id, "Parents": None, "Type": record.type,
            "Description": record.description, "InUse": record.in_use,
            "Shared": record.shared, "Size": record.size, "CreatedAt": record.created,
            "LastUsedAt": record.created, "UsageCount": 1}


@routes.get("/system/df")
async def disk_usage(request: web.Request) -> web.StreamResponse:
    """Only the parts ``?type=`` names (API >= 1.42, as dockerd: the others null,
    and ``LayersSize`` 0 without images); ``BuilderSize`` only below 1.42."""
    version = parse_version(request.match_info.get("api_version", f"v{API_VERSION}")[1:])
    asked = request.query.getall("type", [])
    kinds = tuple(asked) if asked and version >= (1, 42) else KINDS
    engine = engine_of(request)
    usage = await engine.system.df(kinds)
    runs = {i.image.id: i.image.run_config for i in usage.images}
    for c in usage.containers:
        image_id = c.container.config.image_id
        if image_id not in runs:
            try:
                runs[image_id] = (await engine.images.get(image_id)).run_config
            except NotFound:
                runs[image_id] = {}
    answer: dict[str, Any] = {
        "LayersSize": usage.layers_size,
        "Images": [image_summary(i.image, containers=i.containers, shared_size=i.shared_size)
                   for i in usage.images] if "image" in kinds else None,
        "Containers": [_container_entry(c, runs[c.container.config.image_id])
                       for c in usage.containers] if "container" in kinds else None,
        "Volumes": [volume_json(v.volume, size=v.size, links=v.links)
                    for v in usage.volumes] if "volume" in kinds else None,
        "BuildCache": [_cache_entry(c) for c in usage.build_cache]
        if "build-cache" in kinds else None,
    }
    if version < (1, 42):
        answer["BuilderSize"] = usage.build_cache_size
    return web.json_response(answer)
