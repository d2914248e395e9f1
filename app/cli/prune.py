"""``container prune``, ``image prune``, ``builder prune`` and ``system prune``, as docker has them.

Each asks first (docker's warning and ``[y/N]``; ``-f`` skips it; anything but
y/yes leaves everything as it was, exit 0), then lists what it removed under
docker's headings and ends with "Total reclaimed space". ``system prune``
does the others in docker's order: containers, networks, volumes (with
``--volumes``: anonymous ones), images (dangling, or every unused one with
``-a``), and the build cache (dangling, or all of it with ``-a``).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from app.cli.command import Command, Context
from app.cli.options import UsageError
from engine import Pruned, human_size

__all__ = ["BUILDER_PRUNE", "CONTAINER_PRUNE", "IMAGE_PRUNE", "SYSTEM_PRUNE", "confirmed",
           "write_pruned"]


def confirmed(ctx: Context, warning: str) -> bool:
    """docker's prompt: the warning, "Are you sure you want to continue? [y/N] "."""
    if ctx.args.force:
        return True
    ctx.out.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    ctx.out.flush()
    return ctx.stdin.readline().strip().lower() in ("y", "yes")


def write_pruned(ctx: Context, heading: str, pruned: Pruned) -> None:
    """The removed objects under their heading (nothing when none went); errors on stderr."""
    for error in pruned.errors:
        ctx.daemon_error(error)
    if pruned.deleted:
        ctx.out.write(f"{heading}:\n" + "".join(f"{item}\n" for item in pruned.deleted) + "\n")


def _total(ctx: Context, reclaimed: int) -> None:
    ctx.out.write(f"Total reclaimed space: {human_size(reclaimed)}\n")


async def cmd_container_prune(ctx: Context) -> int:
    if not confirmed(ctx, "WARNING! This will remove all stopped containers."):
        return 0
    pruned = await ctx.engine.containers.prune()
    write_pruned(ctx, "Deleted Containers", pruned)
    _total(ctx, pruned.reclaimed)
    return ctx.status


async def cmd_image_prune(ctx: Context) -> int:
    what = ("all images without at least one container associated to them" if ctx.args.all
            else "all dangling images")
    if not confirmed(ctx, f"WARNING! This will remove {what}."):
        return 0
    pruned = await ctx.engine.images.prune(all=ctx.args.all)
    write_pruned(ctx, "Deleted Images", pruned)
    _total(ctx, pruned.reclaimed)
    return ctx.status


async def cmd_builder_prune(ctx: Context) -> int:
    from engine import PruneFilter, parse_ram, parse_timestamp

    args = ctx.args
    untils = []
    for item in args.filter:
        key, sep, value = item.partition("=")
        if not sep or key not in ("until", "unused-for"):
            raise UsageError(f"invalid filter '{item}': skiff builder prune takes until=")
        untils.append(value)
    if len(untils) > 1:
        raise UsageError("more than one until filter was given")
    keep = parse_ram(args.keep_storage) if args.keep_storage not in ("", "0") else 0
    warning = ("WARNING! This will remove all build cache." if args.all
               else "WARNING! This will remove all dangling build cache.")
    if not confirmed(ctx, warning):
        return 0
    chosen = PruneFilter(until_ns=parse_timestamp(untils[0]) if untils else None)
    pruned = await ctx.engine.builder.prune(all=args.all, chosen=chosen, keep_storage=keep)
    write_pruned(ctx, "Deleted build cache objects", pruned)
    _total(ctx, pruned.reclaimed)
    return ctx.status


def system_warning(all_images: bool, volumes: bool) -> str:
    items = ["all stopped containers", "all networks not used by at least one container"]
    if volumes:
        items.append("all anonymous volumes not used by at least one container")
    items.append("all images without at least one container associated to them"
                 if all_images else "all dangling images")
    items.append("all build cache" if all_images else "unused build cache")
    return "WARNING! This will remove:\n" + "".join(f"  - {i}\n" for i in items)


async def cmd_system_prune(ctx: Context) -> int:
    args = ctx.args
    if not confirmed(ctx, system_warning(args.all, args.volumes)):
        return 0
    engine = ctx.engine
    reclaimed = 0
    steps: list[tuple[str, Callable[[], Awaitable[Pruned]]]] = [
        ("Deleted Containers", engine.containers.prune),
        ("Deleted Networks", engine.networks.prune)]
    if args.volumes:
        steps.append(("Deleted Volumes", lambda: engine.volumes.prune(anonymous_only=True)))
    steps.append(("Deleted Images", lambda: engine.images.prune(all=args.all)))
    steps.append(("Deleted build cache objects", lambda: engine.builder.prune(all=args.all)))
    for heading, prune in steps:
        pruned = await prune()
        write_pruned(ctx, heading, pruned)
        reclaimed += pruned.reclaimed
    _total(ctx, reclaimed)
    return ctx.status


def _b_force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--filter", action="append", default=[], help=argparse.SUPPRESS)
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


def _b_image(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Remove all unused images, not just dangling ones")
    _b_force(p)


def _b_builder(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Remove all unused build cache, not just dangling ones")
    p.add_argument("--filter", action="append", default=[],
                   help="Provide filter values (e.g. \"until=24h\")")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    p.add_argument("--keep-storage", default="", help="Amount of disk space to keep for cache")


def _b_system(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Remove all unused images not just dangling ones")
    _b_force(p)
    p.add_argument("--volumes", action="store_true", help="Prune anonymous volumes")


def _no_filters(ctx: Context) -> None:
    if ctx.args.filter:
        raise UsageError("--filter is not supported by Skiff's prune commands yet: prune "
                         "without it, or remove the objects one by one", 1)


CONTAINER_PRUNE = Command("prune", "Remove all stopped containers", _b_force,
                          cmd_container_prune, precheck=_no_filters)
IMAGE_PRUNE = Command("prune", "Remove unused images", _b_image, cmd_image_prune,
                      precheck=_no_filters)
BUILDER_PRUNE = Command("prune", "Remove build cache", _b_builder, cmd_builder_prune)
SYSTEM_PRUNE = Command("prune", "Remove unused data", _b_system, cmd_system_prune,
                       precheck=_no_filters)
