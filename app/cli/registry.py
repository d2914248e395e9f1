"""Registry commands: pull, push, login, logout, search and ``image tags``.

Output follows docker's: the "latest: Pulling from library/busybox" header,
one line a layer (live bars on a terminal), the digest and status lines, and
the canonical reference last. ``run``/``create`` use :func:`ensure_image` to
pull a missing image first, printing to stderr as docker does.
"""

from __future__ import annotations

import argparse

from app.cli.command import Command, Context
from app.cli.options import UsageError
from app.cli.output import Formatter, ellipsis
from app.cli.progress import ProgressBoard
from engine import DOCKER_HUB, ImageNotFound, NotFound, Reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = ["COMMANDS", "PULL", "PUSH", "TAGS", "ensure_image", "pull_header", "search_row"]

SEARCH_FORMAT = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
SEARCH_HEADERS = {"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS",
                  "IsOfficial": "OFFICIAL", "IsAutomated": "AUTOMATED"}


def pull_header(ref: str, default_tag_note: bool = True) -> list[str]:
    """docker's lines before the layers: "Using default tag", "TAG: Pulling from PATH".

    Only ``pull`` says "Using default tag" (docker's CLI prints it, not the daemon);
    run and create, pulling for themselves, do not.
    """
    given = Reference.parse(ref, default_tag=False)
    lines = []
    if not given.tag and not given.digest and default_tag_note:
        lines.append("Using default tag: latest")
    reference = Reference.parse(ref)
    lines.append(f"{reference.tag or reference.digest}: Pulling from {reference.repository}")
    return lines


async def pull(ctx: Context, ref: str, *, platform: str | None, out: TextIO,
               quiet: bool = False, for_run: bool = False) -> Any:
    """docker pull's output; ``for_run``: pulling for run/create, which print neither
    "Using default tag" nor the final canonical reference."""
    board = ProgressBoard(out, tty=out.isatty(), quiet=quiet)
    try:
        before = (await ctx.engine.images.get(ref)).id
    except NotFound:
        before = ""
    for line in pull_header(ref, default_tag_note=not for_run):
        board.line(line)
    image = await ctx.engine.images.pull(ref, platform=platform, progress=board)
    reference = Reference.parse(ref)
    shown = reference.familiar
    if image.manifest_digest:
        board.line(f"Digest: {image.manifest_digest}")
    if image.id == before:  # docker's wording: the name already meant this image
        board.line(f"Status: Image is up to date for {shown}")
    else:
        board.line(f"Status: Downloaded newer image for {shown}")
    if not for_run:
        out.write(reference.canonical + "\n")
        out.flush()
    return image


async def ensure_image(ctx: Context, ref: str, policy: str, platform: str | None) -> Any:
    """The image for run/create, pulled first when missing (or always), like docker."""
    if policy == "always":
        return await pull(ctx, ref, platform=platform, out=ctx.err, for_run=True)
    try:
        return await ctx.engine.images.get(ref)
    except ImageNotFound:
        if policy == "never":
            raise
    ctx.error(f"Unable to find image '{Reference.parse(ref).familiar}' locally")
    return await pull(ctx, ref, platform=platform, out=ctx.err, for_run=True)


async def cmd_pull(ctx: Context) -> int:
    args = ctx.args
    if args.all_tags:
        raise UsageError("--all-tags is not supported: pull the tags you need one by one", 1)
    await pull(ctx, args.image, platform=args.platform, out=ctx.out, quiet=args.quiet)
    return 0


async def cmd_push(ctx: Context) -> int:
    args = ctx.args
    reference = Reference.parse(args.image)
    board = ProgressBoard(ctx.out, tty=ctx.out.isatty(), push=True, quiet=args.quiet)
    board.line(f"The push refers to repository [{reference.name}]")
    digest = await ctx.engine.images.push(args.image, progress=board)
    if args.quiet:
        ctx.out.write(args.image + "\n")
    else:
        board.line(f"{reference.tag or 'latest'}: digest: {digest}")
    return 0


async def cmd_login(ctx: Context) -> int:
    args = ctx.args
    server = args.server or DOCKER_HUB
    username = args.username or ""
    password = args.password or ""
    if args.password and args.password_stdin:
        raise UsageError("--password and --password-stdin are mutually exclusive", 1)
    if args.password:
        ctx.error("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
    if args.password_stdin:
        if not username:
            raise UsageError("Must provide --username with --password-stdin", 1)
        password = ctx.stdin.read().rstrip("\r\n")
    interactive = ctx.stdin.isatty()
    if not username:
        if not interactive:
            raise UsageError("Error: Cannot perform an interactive login from a non TTY device",
                             1)
        ctx.out.write("Username: ")
        ctx.out.flush()
        username = ctx.stdin.readline().strip()
        if not username:
            raise UsageError("Error: Non-null Username Required", 1)
    if not password:
        if not interactive:
            raise UsageError("Error: Cannot perform an interactive login from a non TTY device",
                             1)
        import getpass  # termios: only for a login's prompt, not for every pull or run

        password = getpass.getpass("Password: ")
        if not password:
            raise UsageError("Error: Password Required", 1)
    await ctx.engine.registry.login(server, username, password)
    ctx.out.write("Login Succeeded\n")
    return 0


async def cmd_logout(ctx: Context) -> int:
    server = ctx.args.server or DOCKER_HUB
    await ctx.engine.registry.logout(server)
    ctx.out.write(f"Removing login credentials for {server}\n")
    return 0


def search_row(result: Any, trunc: bool = True) -> dict[str, Any]:
    description = " ".join(str(result.description or "").split())
    if trunc:
        description = ellipsis(description, 45)
    return {
        "Name": result.name,
        "Description": description,
        "StarCount": str(result.stars),
        "IsOfficial": "[OK]" if result.official else "",
        "IsAutomated": "",
    }


def _search_filters(items: list[str]) -> tuple[bool | None, int]:
    official: bool | None = None
    stars = 0
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        if key == "is-official":
            official = value.lower() in ("1", "true")
        elif key == "stars":
            try:
                stars = int(value)
            except ValueError:
                raise UsageError(f"invalid filter 'stars={value}': use a number") from None
        else:
            raise UsageError(f"invalid filter '{key}': use is-official or stars")
    return official, stars


async def cmd_search(ctx: Context) -> int:
    args = ctx.args
    official, stars = _search_filters(args.filter)
    if args.limit < 1 or args.limit > 100:
        raise UsageError(f"invalid --limit {args.limit}: use a number from 1 to 100")
    results = await ctx.engine.images.search(args.term, limit=args.limit)
    rows = [search_row(r, trunc=not args.no_trunc) for r in results
            if (official is None or bool(r.official) == official) and r.stars >= stars]
    Formatter(args.format or SEARCH_FORMAT, SEARCH_HEADERS).write(rows, ctx.out)
    return 0


async def cmd_tags(ctx: Context) -> int:
    for tag in await ctx.engine.registry.tags(ctx.args.repository):
        ctx.out.write(tag + "\n")
    return 0


def _b_pull(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all-tags", action="store_true",
                   help="Download all tagged images in the repository")
    p.add_argument("--platform", default=None, help="Set platform if server is multi-platform "
                   "capable (os/arch[/variant])")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("image", metavar="NAME[:TAG|@DIGEST]")


def _b_push(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("image", metavar="NAME[:TAG]")


def _b_login(p: argparse.ArgumentParser) -> None:
    p.add_argument("-u", "--username", default="", help="Username")
    p.add_argument("-p", "--password", default="", help="Password")
    p.add_argument("--password-stdin", action="store_true", help="Take the password from stdin")
    p.add_argument("server", nargs="?", default="", metavar="SERVER")


def _b_logout(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", nargs="?", default="", metavar="SERVER")


def _b_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Filter output based on conditions provided")
    p.add_argument("--format", default=None, help="Pretty-print search using a Go template")
    p.add_argument("--limit", type=int, default=25, help="Max number of search results")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("term", metavar="TERM")


def _b_tags(p: argparse.ArgumentParser) -> None:
    p.add_argument("repository", metavar="REPOSITORY")


PULL = Command("pull", "Download an image from a registry", _b_pull, cmd_pull,
               "NAME[:TAG|@DIGEST]")
PUSH = Command("push", "Upload an image to a registry", _b_push, cmd_push, "NAME[:TAG]")
TAGS = Command("tags", "List the tags of a repository in its registry (Skiff's own)", _b_tags,
               cmd_tags, "REPOSITORY")

COMMANDS: list[Command] = [
    PULL,
    PUSH,
    Command("login", "Log in to a registry", _b_login, cmd_login, "[SERVER]"),
    Command("logout", "Log out from a registry", _b_logout, cmd_logout, "[SERVER]"),
    Command("search", "Search Docker Hub (or a registry's catalog) for images", _b_search,
            cmd_search, "TERM"),
]
