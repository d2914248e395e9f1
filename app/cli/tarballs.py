"""Tar archives: ``export`` and ``import`` (a container's filesystem out as a tar, a tar
in as an image), ``save`` and ``load`` (images out to and in from docker-save or OCI
archives).

``export`` writes to ``-o FILE`` or to stdout when that is not a terminal (as
docker: it refuses to print a tar on a terminal). ``import`` reads a file or
``-`` (stdin), plain or compressed, applies the ``-c`` instructions Skiff
supports (engine/images/instructions.py), and prints the new image's ID.
``load`` reads a file or stdin; ``save`` writes a file, or stdout when that is
not a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
from pathlib import Path

from app.cli.command import Command, Context, UsageError
from engine import familiar

__all__ = ["EXPORT", "IMPORT", "LOAD", "SAVE"]


async def cmd_export(ctx: Context) -> int:
    args = ctx.args
    await ctx.engine.containers.get(args.container)  # "No such container" before any file
    if not args.output:
        if ctx.out.isatty():
            raise UsageError("cowardly refusing to save to a terminal. Use the -o flag or "
                             "redirect", 1)
        sink = ctx.out_bytes
        await ctx.engine.containers.export(args.container, sink)
        sink.flush()
        return 0
    target = Path(args.output)
    try:
        with target.open("wb") as sink:
            await ctx.engine.containers.export(args.container, sink)
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    return 0


async def cmd_import(ctx: Context) -> int:
    args = ctx.args
    source = args.source
    if source.startswith(("http://", "https://")):
        raise UsageError(f"importing from a URL is not supported: download {source} first, "
                         "then import the file (or pipe it in with -)", 1)
    options = {"changes": list(args.change), "message": args.message,
               "platform": args.platform}
    if source != "-":
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"open {source}: no such file or directory", 1)
        image = await ctx.engine.images.import_(path, args.reference or "", **options)
    else:
        if ctx.stdin.isatty():
            raise UsageError("requested import from stdin, but stdin is a terminal: pipe or "
                             "redirect a tarball into it", 1)
        with tempfile.TemporaryDirectory(prefix="skiff-import-") as tmp:
            path = Path(tmp) / "rootfs.tar"
            with path.open("wb") as sink:
                shutil.copyfileobj(getattr(ctx.stdin, "buffer", ctx.stdin), sink, 1 << 20)
            if path.stat().st_size == 0:
                raise UsageError("requested import from stdin, but stdin is empty", 1)
            image = await ctx.engine.images.import_(path, args.reference or "", **options)
    ctx.out.write(image.id + "\n")
    return 0


def _b_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="", help="Write to a file, instead of STDOUT")
    p.add_argument("container", metavar="CONTAINER")


def _b_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--change", action="append", default=[],
                   help="Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, "
                   "ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)")
    p.add_argument("-m", "--message", default="",
                   help="Set commit message for imported image")
    p.add_argument("--platform", default=None,
                   help="Set platform if server is multi-platform capable")
    p.add_argument("source", metavar="file|URL|-")
    p.add_argument("reference", nargs="?", default="", metavar="REPOSITORY[:TAG]")


async def cmd_load(ctx: Context) -> int:
    args = ctx.args
    if args.input:
        path = Path(args.input)
        if not path.is_file():
            raise UsageError(f"open {args.input}: no such file", 1)
        images = await ctx.engine.images.load(path)
    else:
        if ctx.stdin.isatty():
            raise UsageError("requested load from stdin, but stdin is empty", 1)
        with tempfile.TemporaryDirectory(prefix="skiff-load-") as tmp:
            archive = Path(tmp) / "archive.tar"
            source = getattr(ctx.stdin, "buffer", ctx.stdin)
            with archive.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
            if archive.stat().st_size == 0:
                raise UsageError("requested load from stdin, but stdin is empty", 1)
            images = await ctx.engine.images.load(archive)
    for image in images:
        if image.repo_tags:
            for tag in image.repo_tags:
                ctx.out.write(f"Loaded image: {familiar(tag)}\n")
        else:
            ctx.out.write(f"Loaded image ID: {image.id}\n")
    return 0


async def cmd_save(ctx: Context) -> int:
    args = ctx.args
    if args.output:
        await ctx.engine.images.save(list(args.images), Path(args.output))
        return 0
    if ctx.out.isatty():
        raise UsageError("cowardly refusing to save to a terminal. Use the -o flag or redirect",
                         1)
    with tempfile.TemporaryDirectory(prefix="skiff-save-") as tmp:
        archive = Path(tmp) / "archive.tar"
        await ctx.engine.images.save(list(args.images), archive)
        sink = ctx.out_bytes
        with archive.open("rb") as source:
            shutil.copyfileobj(source, sink, 1 << 20)
        sink.flush()
    return 0


def _b_load(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", default="", help="Read from tar archive file, instead of "
                   "STDIN")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the load output")


def _b_save(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="", help="Write to a file, instead of STDOUT")
    p.add_argument("images", nargs="+", metavar="IMAGE")


EXPORT = Command("export", "Export a container's filesystem as a tar archive", _b_export,
                 cmd_export, "CONTAINER")
IMPORT = Command("import", "Import the contents from a tarball to create a filesystem image",
                 _b_import, cmd_import, "file|URL|- [REPOSITORY[:TAG]]")
LOAD = Command("load", "Load an image from a tar archive or STDIN", _b_load, cmd_load)
SAVE = Command("save", "Save one or more images to a tar archive (streamed to STDOUT by "
               "default)", _b_save, cmd_save, "IMAGE [IMAGE...]")
