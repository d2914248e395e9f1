"""skiff inspect: the JSON (or a --format line) of containers and images.

Read through ``engine.Reader``, without an event loop nor the engine's services
(188 -> ~75 ms of CPU for a container here, README's figures); only a running
container on a network needs the engine, whose helper knows its endpoints.
"""

from __future__ import annotations

import argparse
from collections.abc import Coroutine, Sequence

from app.cli.command import Context, UsageError
from app.cli.output import inspect_template, to_json
from engine import ContainerNotFound, NotFound, Reader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


async def _inspect_one(ctx: Context, ref: str, kind: str) -> dict[str, Any]:
    if kind in ("", "container"):
        try:
            return (await ctx.engine.containers.inspect(ref)).docker_json()
        except ContainerNotFound:
            if kind == "container":
                raise
    return (await ctx.engine.images.inspect(ref)).docker_json()


async def inspect_objects(ctx: Context, refs: Sequence[str], kind: str, fmt: str | None) -> int:
    """docker inspect: the JSON list (or one formatted line each); "No such ..." at the end."""
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for ref in refs:
        try:
            found.append(await _inspect_one(ctx, ref, kind))
        except NotFound:
            missing.append(ref)
    return _write(ctx, found, missing, kind, fmt)


def inspect_images(ctx: Context, refs: Sequence[str], fmt: str | None) -> int:
    """inspect_objects of images only, read in plain calls."""
    status = _read(ctx, refs, "image", fmt)
    assert status is not None  # only a container may need the engine
    return status


def _read(ctx: Context, refs: Sequence[str], kind: str, fmt: str | None) -> int | None:
    """inspect_objects in plain calls (engine.Reader); None, having written nothing,
    when one of them is a running container on a network (the engine's to inspect)."""
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    with Reader() as reader:
        for ref in refs:
            if kind in ("", "container"):
                try:
                    details = reader.container_inspect(ref)
                except ContainerNotFound:
                    if kind == "container":
                        missing.append(ref)
                        continue
                else:
                    if details is None:
                        return None
                    found.append(details.docker_json())
                    continue
            try:
                found.append(reader.image(ref).docker_json())
            except NotFound:
                missing.append(ref)
    return _write(ctx, found, missing, kind, fmt)


def _write(ctx: Context, found: list[dict[str, Any]], missing: list[str], kind: str,
           fmt: str | None) -> int:
    template = inspect_template(fmt)
    if template is None:
        ctx.out.write(to_json(found, indent=4) + "\n")
    else:
        for data in found:
            ctx.out.write(template.render(data) + "\n")
    what = {"container": "container", "image": "image"}.get(kind, "object")
    for ref in missing:
        ctx.error(f"Error: No such {what}: {ref}")
    return 1 if missing else 0


def cmd_inspect(ctx: Context) -> int | Coroutine[Any, Any, int]:
    args = ctx.args
    kind = args.type or ""
    if kind not in ("", "container", "image"):
        raise UsageError(f'"{kind}" is not a valid value for --type: use container or image')
    return _inspect(ctx, args.objects, kind, args.format)


def cmd_container_inspect(ctx: Context) -> int | Coroutine[Any, Any, int]:
    return _inspect(ctx, ctx.args.objects, "container", ctx.args.format)


def _inspect(ctx: Context, refs: Sequence[str], kind: str, fmt: str | None
             ) -> int | Coroutine[Any, Any, int]:
    status = _read(ctx, refs, kind, fmt)
    return _with_engine(ctx, refs, kind, fmt) if status is None else status


async def _with_engine(ctx: Context, refs: Sequence[str], kind: str, fmt: str | None) -> int:
    from engine import Engine

    async with Engine() as engine:
        ctx.opened = engine
        return await inspect_objects(ctx, refs, kind, fmt)


def build_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("--type", default=None, help="Return JSON for specified type")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p.add_argument("objects", nargs="+", metavar="NAME|ID")


def build_container_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    p.add_argument("objects", nargs="+", metavar="CONTAINER")
