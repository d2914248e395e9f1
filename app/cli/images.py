"""Image commands: images (image ls), rmi, tag and image inspect (history,
load, save, import and prune have modules of their own).

``images`` prints one row a tag, newest first, with docker's columns and sizes.
"""

from __future__ import annotations

import argparse
import fnmatch
import time

from app.cli.command import Command, CommandRef, Context, UsageError
from app.cli.output import Formatter, created_at, since
from engine import SkiffError, familiar, human_size, split_familiar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["BUILDER", "COMMANDS", "IMAGE_HEADERS", "MANAGEMENT", "image_rows"]

IMAGES_FORMAT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_DIGESTS_FORMAT = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
                         "{{.CreatedSince}}\t{{.Size}}")
IMAGE_HEADERS = {
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
    "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
    "VirtualSize": "SIZE",
}
IMAGE_FILTERS = ("dangling", "reference")


def _digest_for(image: Any, repository: str) -> str:
    for entry in image.repo_digests:
        repo, _, digest = split_familiar(entry)
        if repo == repository:
            return digest
    return "<none>"


def image_rows(images: list[Any], *, trunc: bool = True, now: float | None = None
               ) -> list[dict[str, Any]]:
    """One row a tag (an untagged image: one <none> row), newest first, as docker lists."""
    rows: list[dict[str, Any]] = []
    for image in sorted(images, key=lambda i: i.created, reverse=True):
        image_id = image.id.removeprefix("sha256:")[:12] if trunc else image.id
        tags = [split_familiar(t) for t in image.repo_tags] or [("<none>", "<none>", "")]
        if not image.repo_tags and image.repo_digests:
            repo = split_familiar(image.repo_digests[0])[0]
            tags = [(repo, "<none>", "")]
        for repository, tag, _ in tags:
            size = human_size(image.size)
            rows.append({
                "Containers": "N/A",
                "CreatedAt": created_at(image.created),
                "CreatedSince": since(image.created, now),
                "Digest": _digest_for(image, repository),
                "ID": image_id,
                "Repository": repository,
                "SharedSize": "N/A",
                "Size": size,
                "Tag": tag or "<none>",
                "UniqueSize": "N/A",
                "VirtualSize": size,
            })
    return rows


def _filter_images(images: list[Any], items: list[str]) -> list[Any]:
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        if key == "dangling":
            if value.lower() not in ("true", "false", "1", "0"):
                raise UsageError(f"invalid filter 'dangling={value}': use true or false")
            want = value.lower() in ("true", "1")
            images = [i for i in images if (not i.repo_tags) == want]
        elif key == "reference":
            def match(image: Any, pattern: str = value) -> bool:
                for name in (familiar(t) for t in image.repo_tags):
                    repository = split_familiar(name)[0]
                    if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(repository,
                                                                                 pattern):
                        return True
                return False
            images = [i for i in images if match(i)]
        else:
            raise UsageError(f"invalid filter '{key}': use one of {', '.join(IMAGE_FILTERS)}")
    return images


def cmd_images(ctx: Context) -> int:
    """Reads the image store without the engine's event loop (engine.Reader)."""
    from engine import Reader

    args = ctx.args
    with Reader() as reader:
        images = reader.images(all=args.all)
    images = _filter_images(images, args.filter)
    if args.repository:
        repo_part, tag_part, _ = split_familiar(args.repository)
        images = [i for i in images
                  if any(split_familiar(t)[0] == repo_part
                         and (not tag_part or split_familiar(t)[1] == tag_part)
                         for t in i.repo_tags)]
    if args.quiet:
        fmt = "{{.ID}}"
    else:
        fmt = args.format or (IMAGES_DIGESTS_FORMAT if args.digests else IMAGES_FORMAT)
    rows = image_rows(images, trunc=not args.no_trunc, now=time.time())
    if args.quiet:
        seen: set[str] = set()
        unique = []
        for row in rows:
            if row["ID"] not in seen:
                seen.add(row["ID"])
                unique.append(row)
        rows = unique
    Formatter(fmt, IMAGE_HEADERS).write(rows, ctx.out)
    return 0


async def cmd_rmi(ctx: Context) -> int:
    for ref in ctx.args.images:
        try:
            lines = await ctx.engine.images.remove(ref, force=ctx.args.force)
        except SkiffError as exc:
            ctx.daemon_error(exc)
            continue
        for kind, name in lines:
            ctx.out.write(f"{kind}: {familiar(name) if kind == 'Untagged' else name}\n")
        ctx.out.flush()
    return ctx.status


async def cmd_tag(ctx: Context) -> int:
    await ctx.engine.images.tag(ctx.args.source, ctx.args.target)
    return 0


def cmd_image_inspect(ctx: Context) -> int:
    from app.cli.inspection import inspect_images

    return inspect_images(ctx, ctx.args.objects, ctx.args.format)


def _b_images(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Show all images (default hides intermediate images)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("--digests", action="store_true", help="Show digests")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Filter output based on conditions provided")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("repository", nargs="?", default="", metavar="REPOSITORY[:TAG]")


def _b_rmi(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    p.add_argument("--no-prune", action="store_true", help="Do not delete untagged parents")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def _b_tag(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def _b_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("objects", nargs="+", metavar="IMAGE")


_BUILD = CommandRef("build", "Build an image from a Dockerfile", "app.cli.build:BUILD")
_HISTORY = CommandRef("history", "Show the history of an image", "app.cli.history:HISTORY")
_IMPORT = CommandRef("import", "Import the contents from a tarball to create a filesystem image",
                     "app.cli.tarballs:IMPORT")
_IMAGE_PRUNE = CommandRef("prune", "Remove unused images", "app.cli.prune:IMAGE_PRUNE")
_PULL = CommandRef("pull", "Download an image from a registry", "app.cli.registry:PULL")
_PUSH = CommandRef("push", "Upload an image to a registry", "app.cli.registry:PUSH")
_TAGS = CommandRef("tags", "List the tags of a repository in its registry (Skiff's own)",
                   "app.cli.registry:TAGS")
_IMAGES = Command("images", "List images", _b_images, cmd_images, "[REPOSITORY[:TAG]]",
                  needs_engine=False)
_RMI = Command("rmi", "Remove one or more images", _b_rmi, cmd_rmi, "IMAGE [IMAGE...]")
_TAG = Command("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", _b_tag, cmd_tag,
               "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")
_LOAD = CommandRef("load", "Load an image from a tar archive or STDIN", "app.cli.tarballs:LOAD")
_SAVE = CommandRef("save", "Save one or more images to a tar archive (streamed to STDOUT by "
                   "default)", "app.cli.tarballs:SAVE")

COMMANDS: list[Command | CommandRef] = [_IMAGES, _RMI, _TAG, _LOAD, _SAVE, _HISTORY, _IMPORT,
                                        _BUILD]

MANAGEMENT: list[Command | CommandRef] = [
    Command("ls", "List images", _b_images, cmd_images, "[REPOSITORY[:TAG]]",
            aliases=("list",), needs_engine=False),
    Command("rm", "Remove one or more images", _b_rmi, cmd_rmi, "IMAGE [IMAGE...]",
            aliases=("remove",)),
    Command("inspect", "Display detailed information on one or more images", _b_inspect,
            cmd_image_inspect, "IMAGE [IMAGE...]", needs_engine=False),
    _TAG, _LOAD, _SAVE, _PULL, _PUSH, _TAGS, _HISTORY, _IMPORT, _IMAGE_PRUNE, _BUILD,
]
BUILDER: list[Command | CommandRef] = [  # docker builder build|prune
    _BUILD, CommandRef("prune", "Remove build cache", "app.cli.prune:BUILDER_PRUNE")]
