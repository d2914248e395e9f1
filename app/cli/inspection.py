"""skiff inspect: the JSON (or a --format line) of containers and images."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from app.cli.command import Context
from app.cli.options import UsageError
from app.cli.output import inspect_template, to_json
from engine import ContainerNotFound, NotFound


async def _inspect_one(ctx: Context, ref: str, kind: str) -> dict[str, Any]:
    if kind in ("", "container"):
        try:
            return await ctx.engine.containers.inspect(ref)
        except ContainerNotFound:
            if kind == "container":
                raise
    return await ctx.engine.images.inspect(ref)


async def inspect_objects(ctx: Context, refs: Sequence[str], kind: str, fmt: str | None) -> int:
    """docker inspect: the JSON list (or one formatted line each); "No such ..." at the end."""
    template = inspect_template(fmt)
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for ref in refs:
        try:
            found.append(await _inspect_one(ctx, ref, kind))
        except NotFound:
            missing.append(ref)
    if template is None:
        ctx.out.write(to_json(found, indent=4) + "\n")
    else:
        for data in found:
            ctx.out.write(template.render(data) + "\n")
    what = {"container": "container", "image": "image"}.get(kind, "object")
    for ref in missing:
        ctx.error(f"Error: No such {what}: {ref}")
    return 1 if missing else 0


async def cmd_inspect(ctx: Context) -> int:
    args = ctx.args
    kind = args.type or ""
    if kind not in ("", "container", "image"):
        raise UsageError(f'"{kind}" is not a valid value for --type: use container or image')
    return await inspect_objects(ctx, args.objects, kind, args.format)


async def cmd_container_inspect(ctx: Context) -> int:
    return await inspect_objects(ctx, ctx.args.objects, "container", ctx.args.format)



def build_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("--type", default=None, help="Return JSON for specified type")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p.add_argument("objects", nargs="+", metavar="NAME|ID")


def build_container_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p.add_argument("objects", nargs="+", metavar="CONTAINER")
