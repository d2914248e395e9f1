"""``system df``: docker's disk usage summary, and with ``-v`` its four detailed tables.

The summary has one row a kind (Images, Containers, Local Volumes, Build
Cache) with docker's TOTAL, ACTIVE, SIZE and RECLAIMABLE, the last one with
its share of the size in percent. The build cache is a build's intermediate
images and its ``RUN --mount=type=cache`` volumes (engine/services/builder.py).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from app.cli.command import Command, Context
from app.cli.options import UsageError
from app.cli.output import Formatter, since
from app.cli.ps import container_row
from engine import human_size, split_familiar

__all__ = ["SYSTEM_DF", "summary_rows"]

SUMMARY_FORMAT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
SUMMARY_HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
                   "Reclaimable": "RECLAIMABLE"}
IMAGES_FORMAT = ("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
                 "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}")
IMAGES_HEADERS = {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID",
                  "CreatedSince": "CREATED", "Size": "SIZE", "SharedSize": "SHARED SIZE",
                  "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS"}
CONTAINERS_FORMAT = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
                     "{{.RunningFor}}\t{{.Status}}\t{{.Names}}")
CONTAINERS_HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
                      "LocalVolumes": "LOCAL VOLUMES", "Size": "SIZE",
                      "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES"}
VOLUMES_FORMAT = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
VOLUMES_HEADERS = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}
CACHE_FORMAT = ("table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t"
                "{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}")
CACHE_HEADERS = {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE",
                 "CreatedSince": "CREATED", "LastUsedSince": "LAST USED", "UsageCount": "USAGE",
                 "Shared": "SHARED"}


def _reclaimable(reclaimable: int, total: int) -> str:
    """docker's "1.2MB (40%)": the share only when there is something at all."""
    if total > 0:
        return f"{human_size(reclaimable)} ({reclaimable * 100 // total}%)"
    return human_size(reclaimable)


def summary_rows(usage: Any) -> list[dict[str, str]]:
    containers_size = sum(c.size_rw for c in usage.containers)
    volumes_size = sum(v.size for v in usage.volumes)
    return [
        {"Type": "Images", "TotalCount": str(len(usage.images)),
         "Active": str(sum(1 for i in usage.images if i.containers)),
         "Size": human_size(usage.layers_size),
         "Reclaimable": _reclaimable(usage.images_reclaimable, usage.layers_size)},
        {"Type": "Containers", "TotalCount": str(len(usage.containers)),
         "Active": str(sum(1 for c in usage.containers if c.active)),
         "Size": human_size(containers_size),
         "Reclaimable": _reclaimable(usage.containers_reclaimable, containers_size)},
        {"Type": "Local Volumes", "TotalCount": str(len(usage.volumes)),
         "Active": str(sum(1 for v in usage.volumes if v.links)),
         "Size": human_size(volumes_size),
         "Reclaimable": _reclaimable(usage.volumes_reclaimable, volumes_size)},
        {"Type": "Build Cache", "TotalCount": str(usage.build_cache_count),
         "Active": str(sum(1 for c in usage.build_cache if c.in_use)),
         "Size": human_size(usage.build_cache_size),
         "Reclaimable": human_size(usage.build_cache_reclaimable)},
    ]


def _image_rows(usage: Any, now: float) -> list[dict[str, str]]:
    rows = []
    for item in sorted(usage.images, key=lambda i: i.image.created, reverse=True):
        image = item.image
        repository, tag = "<none>", "<none>"
        if image.repo_tags:  # docker shows the first name only
            repository, tag, _ = split_familiar(image.repo_tags[0])
        rows.append({"Repository": repository, "Tag": tag or "<none>",
                     "ID": image.short_id, "CreatedSince": since(image.created, now),
                     "Size": human_size(item.size), "SharedSize": human_size(item.shared_size),
                     "UniqueSize": human_size(item.unique_size),
                     "Containers": str(item.containers)})
    return rows


def _container_rows(usage: Any, now: float) -> list[dict[str, str]]:
    rows = []
    configs: dict[str, dict[str, Any]] = {}
    for item in sorted(usage.containers, key=lambda c: c.container.created, reverse=True):
        container = item.container
        image_id = container.config.image_id
        if image_id not in configs:
            configs[image_id] = next((i.image.run_config for i in usage.images
                                      if i.image.id == image_id), {})
        row = container_row(container, configs[image_id], {}, now=now)
        row["Size"] = human_size(item.size_rw)  # docker leaves the virtual size out here
        rows.append(row)
    return rows


def _cache_rows(usage: Any, now: float) -> list[dict[str, str]]:
    return [{"ID": c.id[:12], "CacheType": c.type, "Size": human_size(c.size),
             "CreatedSince": since(c.created, now), "LastUsedSince": since(c.created, now),
             "UsageCount": "1", "Shared": "true" if c.shared else "false"}
            for c in sorted(usage.build_cache, key=lambda c: c.created, reverse=True)]


def _volume_rows(usage: Any) -> list[dict[str, str]]:
    return [{"Name": v.volume.name, "Links": str(v.links), "Size": human_size(v.size)}
            for v in sorted(usage.volumes, key=lambda v: v.volume.name)]


async def cmd_df(ctx: Context) -> int:
    args = ctx.args
    fmt = None if args.format == "table" else args.format
    usage = await ctx.engine.system.df()
    now = time.time()
    if not args.verbose:
        if fmt == "json":
            fmt = "{{json .}}"
        Formatter(fmt or SUMMARY_FORMAT, SUMMARY_HEADERS).write(summary_rows(usage), ctx.out)
        return 0
    images = _image_rows(usage, now)
    containers = _container_rows(usage, now)
    volumes = _volume_rows(usage)
    cache = _cache_rows(usage, now)
    if fmt:
        if fmt != "json":
            raise UsageError("with --verbose, --format takes only json", 1)
        ctx.out.write(json.dumps({"Images": images, "Containers": containers,
                                  "Volumes": volumes, "BuildCache": cache}) + "\n")
        return 0
    out = ctx.out
    out.write("Images space usage:\n\n")
    Formatter(IMAGES_FORMAT, IMAGES_HEADERS).write(images, out)
    out.write("\nContainers space usage:\n\n")
    Formatter(CONTAINERS_FORMAT, CONTAINERS_HEADERS).write(containers, out)
    out.write("\nLocal Volumes space usage:\n\n")
    Formatter(VOLUMES_FORMAT, VOLUMES_HEADERS).write(volumes, out)
    out.write(f"\nBuild cache usage: {human_size(usage.build_cache_size)}\n\n")
    Formatter(CACHE_FORMAT, CACHE_HEADERS).write(cache, out)
    return 0


def _b_df(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default=None,
                   help="Format output using a custom template ('table', 'json' or a Go "
                   "template)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="Show detailed information on space usage")


SYSTEM_DF = Command("df", "Show Skiff disk usage", _b_df, cmd_df)
