"""``GET /system/df``: what images, containers and volumes take on disk, in
dockerd's shape (``docker system df`` and ``-v`` read it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.api.backend import engine_of
from app.api.imagejson import image_summary
from app.api.routes.volumes import volume_json
from app.api.routing import Routes
from app.api.views import container_summary

__all__ = ["routes"]

routes = Routes()


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
    usage = await engine_of(request).system.df()
    runs = {i.image.id: i.image.run_config for i in usage.images}
    return web.json_response({
        "LayersSize": usage.layers_size,
        "Images": [image_summary(i.image, containers=i.containers, shared_size=i.shared_size)
                   for i in usage.images],
        "Containers": [_container_entry(c, runs.get(c.container.config.image_id, {}))
                       for c in usage.containers],
        "Volumes": [volume_json(v.volume, size=v.size, links=v.links) for v in usage.volumes],
        "BuildCache": [_cache_entry(c) for c in usage.build_cache],
        "BuilderSize": usage.build_cache_size,
    })
