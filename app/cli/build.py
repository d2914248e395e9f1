"""``build`` and ``commit``: images from a Dockerfile, or from a container's changes.

``build`` prints the classic builder's lines (``Step N/M : ...``, `` ---> Using
cache``, the RUN output as it comes, ``Successfully built``); on a terminal with
``--progress auto`` (or ``tty``) each step gets a bold header, its output indented
under it and a line saying how it ended (cached, or its time and layer size).
``-q`` prints only the image ID. A failing RUN exits with its code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.command import Command, Context
from app.cli.options import UsageError

__all__ = ["BUILD", "COMMIT"]

_BOLD, _DIM, _GREEN, _RESET = "\033[1m", "\033[2m", "\033[32m", "\033[0m"


def _pairs(values: list[str], flag: str, environ: dict[str, str]) -> dict[str, str]:
    """K=V pairs; a bare K takes its value from our environment (as docker does)."""
    found: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not key:
            raise UsageError(f'invalid argument "{value}" for "{flag}" flag')
        if sep:
            found[key] = rest
        elif key in environ:
            found[key] = environ[key]
    return found


class _Terminal:
    """The display on a terminal: each step a bold ``[N/M]`` header, its output indented
    and dimmed under a bar, and how it ended: cached, or its time and layer size."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.started = 0.0
        self.line_start = True

    def __call__(self, event: Any) -> None:
        import time

        from engine import human_size

        kind = event.kind
        if kind == "step":
            self._end_line()
            self.started = time.monotonic()
            self.out.write(f"{_BOLD}[{event.step}/{event.total}] {event.text}{_RESET}\n")
        elif kind == "output":
            for piece in event.text.splitlines(keepends=True):
                if self.line_start:
                    self.out.write(f"{_DIM}  │ {_RESET}")
                self.out.write(piece)
                self.line_start = piece.endswith("\n")
        elif kind == "step_done":
            self._end_line()
            if event.cached:
                self.out.write(f"{_GREEN}  ✓ cached{_RESET}\n")
            else:
                took = time.monotonic() - self.started
                layer = f", layer {human_size(event.size)}" if event.size else ""
                self.out.write(f"{_DIM}  ✓ {took:.1f}s{layer} → "
                               f"{event.image_id.removeprefix('sha256:')[:12]}{_RESET}\n")
        elif kind in ("warning", "built", "tagged"):
            from engine import render

            self._end_line()
            self.out.write(render(event))
        self.out.flush()

    def _end_line(self) -> None:
        if not self.line_start:
            self.out.write("\n")
            self.line_start = True


def _writer(ctx: Context, quiet: bool, fancy: bool) -> Any:
    from engine import render

    if fancy and not quiet:
        return _Terminal(ctx.out)

    def show(event: Any) -> None:
        if quiet:
            return
        text = render(event)
        if text:
            ctx.out.write(text)
            ctx.out.flush()

    return show


async def cmd_build(ctx: Context) -> int:
    from engine import BuildOptions, BuildStepFailed, is_remote_context, open_context

    args = ctx.args
    if args.progress not in ("auto", "plain", "tty"):
        raise UsageError(f'invalid argument "{args.progress}" for "--progress" flag: use '
                         "auto or plain")
    stdin = getattr(ctx.stdin, "buffer", None) or sys.stdin.buffer
    context = open_context(args.context, stdin if args.context == "-" else None)
    try:
        remote = is_remote_context(args.context) and not Path(args.context).exists()
        if args.file and args.file != "-" and context.dockerfile_text is None:
            path = Path(args.file)
            if not path.is_absolute() and (remote or (not path.exists() and
                                           (context.root / args.file).is_file())):
                path = context.inside(args.file)  # a remote context's own file
            try:
                context.dockerfile_text = path.read_text(errors="replace")
            except OSError:
                raise UsageError(f"unable to prepare context: unable to evaluate symlinks in "
                                 f"Dockerfile path: lstat {path}: no such file or directory",
                                 1) from None
            context.dockerfile_name = path.name
        elif args.file == "-" and args.context != "-":
            context.dockerfile_text = stdin.read().decode(errors="replace")
        options = BuildOptions(
            dockerfile="Dockerfile", tags=tuple(args.tag),
            build_args=_pairs(args.build_arg, "--build-arg", ctx.environ),
            target=args.target, no_cache=args.no_cache, pull=args.pull,
            labels=_pairs(args.label, "--label", {}), network=args.network or "default",
            platform=args.platform or "")
        fancy = args.progress in ("auto", "tty") and ctx.out.isatty() and \
            "NO_COLOR" not in ctx.environ
        try:
            result = await ctx.engine.images.build(context, options, _writer(ctx, args.quiet,
                                                                             fancy))
        except BuildStepFailed as exc:
            ctx.error(str(exc))
            return exc.code
    finally:
        context.close()
    if args.quiet:
        ctx.out.write(result.image_id + "\n")
    if args.iidfile:
        Path(args.iidfile).write_text(result.image_id)
    return 0


def _b_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--tag", action="append", default=[],
                   help="Name and optionally a tag in the 'name:tag' format")
    p.add_argument("-f", "--file", default="",
                   help="Name of the Dockerfile (Default is 'PATH/Dockerfile')")
    p.add_argument("--build-arg", action="append", default=[], help="Set build-time variables")
    p.add_argument("--target", default="", help="Set the target build stage to build")
    p.add_argument("--no-cache", action="store_true",
                   help="Do not use cache when building the image")
    p.add_argument("--pull", action="store_true",
                   help="Always attempt to pull a newer version of the image")
    p.add_argument("--label", action="append", default=[],
                   help="Set metadata for an image")
    p.add_argument("--network", default="",
                   help="Set the networking mode for the RUN instructions during build")
    p.add_argument("--platform", default="", help="Set platform if server is multi-platform "
                   "capable")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="Suppress the build output and print image ID on success")
    p.add_argument("--progress", default="auto",
                   help="Set type of progress output (auto, plain)")
    p.add_argument("--iidfile", default="", help="Write the image ID to the file")
    p.add_argument("context", metavar="PATH | URL | -")


async def cmd_commit(ctx: Context) -> int:
    args = ctx.args
    image = await ctx.engine.containers.commit(args.container, args.reference or "",
                                    changes=args.change, message=args.message,
                                    author=args.author, pause=args.pause != "false")
    ctx.out.write(image.id + "\n")
    return 0


def _b_commit(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--author", default="",
                   help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    p.add_argument("-c", "--change", action="append", default=[],
                   help="Apply Dockerfile instruction to the created image")
    p.add_argument("-m", "--message", default="", help="Commit message")
    p.add_argument("-p", "--pause", default="true", nargs="?", const="true",
                   help="Pause container during commit (default true)")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("reference", nargs="?", default="", metavar="REPOSITORY[:TAG]")


BUILD = Command("build", "Build an image from a Dockerfile", _b_build, cmd_build,
                "PATH | URL | -")
COMMIT = Command("commit", "Create a new image from a container's changes", _b_commit,
                 cmd_commit, "CONTAINER [REPOSITORY[:TAG]]")
