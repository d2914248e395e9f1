"""Volume commands: volume create, ls, inspect, rm and prune, as docker has them."""

from __future__ import annotations

import argparse

from app.cli.command import Command, Context
from app.cli.options import UsageError, parse_labels
from app.cli.output import Formatter, inspect_each, remove_each
from app.cli.prune import confirmed, write_pruned
from engine import human_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "MANAGEMENT", "volume_row"]

VOLUMES_FORMAT = "table {{.Driver}}\t{{.Name}}"
VOLUME_HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                  "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "CreatedAt": "CREATED AT",
                  "Links": "LINKS", "Size": "SIZE"}


def volume_row(volume: Any) -> dict[str, Any]:
    labels = ",".join(f"{k}={v}" for k, v in sorted((volume.labels or {}).items()))
    return {"CreatedAt": volume.created, "Driver": "local", "Labels": labels, "Links": "N/A",
            "Mountpoint": volume.mountpoint, "Name": volume.name, "Scope": "local",
            "Size": "N/A"}


async def cmd_create(ctx: Context) -> int:
    args = ctx.args
    if args.driver not in ("", "local"):
        raise UsageError(f"volume driver {args.driver!r} is not supported: Skiff has the "
                         "local driver only")
    if args.opt:
        raise UsageError("volume options (-o) are not supported by Skiff's local driver")
    name = args.name or args.name_flag
    volume = await ctx.engine.volumes.create(name, labels=parse_labels(args.label))
    ctx.out.write(volume.name + "\n")
    return 0


async def _in_use(ctx: Context) -> set[str]:
    return {m.source for c in await ctx.engine.containers.list(all=True)
            for m in c.config.mounts if m.type == "volume"}


async def cmd_ls(ctx: Context) -> int:
    args = ctx.args
    volumes = await ctx.engine.volumes.list()
    for item in args.filter:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        if key == "name":
            volumes = [v for v in volumes if value in v.name]
        elif key == "dangling":
            if value.lower() not in ("true", "false", "1", "0"):
                raise UsageError(f"invalid filter 'dangling={value}': use true or false")
            used = await _in_use(ctx)
            want = value.lower() in ("true", "1")
            volumes = [v for v in volumes if (v.name not in used) == want]
        elif key == "label":
            label, has_value, wanted = value.partition("=")
            volumes = [v for v in volumes if label in (v.labels or {})
                       and (not has_value or v.labels[label] == wanted)]
        else:
            raise UsageError(f"invalid filter '{key}': use name, dangling or label")
    fmt = "{{.Name}}" if args.quiet else (args.format or VOLUMES_FORMAT)
    rows = [volume_row(v) for v in sorted(volumes, key=lambda v: v.name)]
    Formatter(fmt, VOLUME_HEADERS).write(rows, ctx.out)
    return 0


async def cmd_inspect(ctx: Context) -> int:
    async def document(name: str) -> dict[str, Any]:
        return (await ctx.engine.volumes.inspect(name)).docker_json()

    return await inspect_each(ctx, ctx.args.volumes, document)


async def cmd_rm(ctx: Context) -> int:
    force = ctx.args.force
    return await remove_each(ctx, ctx.args.volumes,
                             lambda name: ctx.engine.volumes.remove(name, force=force))


async def cmd_prune(ctx: Context) -> int:
    if not confirmed(ctx, "WARNING! This will remove all local volumes not used by at least "
                          "one container."):
        return 0
    pruned = await ctx.engine.volumes.prune()
    write_pruned(ctx, "Deleted Volumes", pruned)
    ctx.out.write(f"Total reclaimed space: {human_size(pruned.reclaimed)}\n")
    return ctx.status


def _b_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--driver", default="", help='Specify volume driver name ("local")')
    p.add_argument("-l", "--label", action="append", default=[],
                   help="Set metadata for a volume")
    p.add_argument("-o", "--opt", action="append", default=[],
                   help="Set driver specific options")
    p.add_argument("--name", dest="name_flag", default="", help="Specify volume name")
    p.add_argument("name", nargs="?", default="", metavar="VOLUME")


def _b_ls(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Provide filter values (e.g. 'dangling=true')")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display volume names")


def _b_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("volumes", nargs="+", metavar="VOLUME")


def _b_rm(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true",
                   help="Force the removal of one or more volumes")
    p.add_argument("volumes", nargs="+", metavar="VOLUME")


def _b_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Remove all unused volumes, not just anonymous ones (Skiff always does)")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


COMMANDS: list[Command] = []
MANAGEMENT: list[Command] = [
    Command("create", "Create a volume", _b_create, cmd_create, "[VOLUME]"),
    Command("ls", "List volumes", _b_ls, cmd_ls, aliases=("list",)),
    Command("inspect", "Display detailed information on one or more volumes", _b_inspect,
            cmd_inspect, "VOLUME [VOLUME...]"),
    Command("rm", "Remove one or more volumes", _b_rm, cmd_rm, "VOLUME [VOLUME...]",
            aliases=("remove",)),
    Command("prune", "Remove unused local volumes", _b_prune, cmd_prune),
]
