"""``GET /system/df``: what images, containers and volumes take on disk, in
dockerd's shape (``docker system df`` and ``-v`` read it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.api.backend import engine_of
from app.api.imagejson import image_summary, unix_time
from app.api.routes.volumes import volume_json
from app.api.routing import Routes

__all__ = ["routes"]

routes = Routes()


def _container_entry(usage: Any) -> dict[str, Any]:
    container = usage.container
    return {
        "Id": container.id,
        "Names": [f"/{container.name}"],
        "Image": container.config.image,
        "ImageID": container.config.image_id,
        "Command": " ".join([*(container.config.entrypoint or []),
                             *(container.config.cmd or [])]),
        "Created": unix_time(container.created),
        "State": container.state.status.value,
        "Status": container.state.status.value,
        "SizeRw": usage.size_rw,
        "SizeRootFs": usage.size_root_fs,
        "Labels": dict(container.config.labels),
        "Mounts": [],
        "Ports": [],
    }


@routes.get("/system/df")
async def disk_usage(request: web.Request) -> web.StreamResponse:
    usage = await engine_of(request).disk_usage()
    return web.json_response({
        "LayersSize": usage.layers_size,
        "Images": [image_summary(i.image, containers=i.containers, shared_size=i.shared_size)
                   for i in usage.images],
        "Containers": [_container_entry(c) for c in usage.containers],
        "Volumes": [volume_json(v.volume, size=v.size, links=v.links) for v in usage.volumes],
        "BuildCache": [],
        "BuilderSize": usage.build_cache_size,
    })
