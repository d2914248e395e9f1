"""``history``: an image's build steps, newest first, as docker prints them.

IMAGE is the image's ID on the newest step and ``<missing>`` on older ones;
CREATED BY is cut to 45 characters unless ``--no-trunc``; ``-H=false`` prints
times in RFC 3339 and sizes in bytes; ``-q`` prints the IDs alone.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from app.cli.command import Command, Context
from app.cli.options import UsageError
from app.cli.output import Formatter, ellipsis, since
from engine import human_size, rfc3339_ns

__all__ = ["HISTORY", "history_row"]

HUMAN_FORMAT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
PLAIN_FORMAT = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
           "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"}


def _rfc3339(created: str) -> str:
    """Go's time.RFC3339 in local time, to the second ("2024-01-01T01:00:00+01:00")."""
    ns = rfc3339_ns(created)
    if ns is None:
        return ""
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC).astimezone()
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def history_row(entry: Any, *, trunc: bool = True, human: bool = True,
                now: float | None = None) -> dict[str, str]:
    created_by = entry.created_by.replace("\t", " ")
    image_id = entry.id
    if trunc and image_id.startswith("sha256:"):
        image_id = image_id.removeprefix("sha256:")[:12]
    created_at = _rfc3339(entry.created)
    return {
        "ID": image_id,
        "CreatedSince": since(entry.created, now) if human else created_at,
        "CreatedAt": created_at,
        "CreatedBy": ellipsis(created_by, 45) if trunc else created_by,
        "Size": human_size(entry.size) if human else str(entry.size),
        "Comment": entry.comment,
    }


def _human(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "t"):
        return True
    if value in ("false", "0", "f"):
        return False
    raise UsageError(f'invalid argument "{text}" for "-H, --human" flag: strconv.ParseBool: '
                     f'parsing "{text}": invalid syntax')


def _image_and_human(ctx: Context) -> tuple[str, bool]:
    """``-H`` is a boolean flag in docker (``-H=false``), so in ``-H IMAGE`` the word
    after it is the image, which argparse took for the flag's value."""
    args = ctx.args
    image, human = args.image, args.human
    if image is None and human.strip().lower() not in ("true", "1", "t", "false", "0", "f"):
        image, human = human, "true"
    if image is None:
        raise UsageError(f'"{ctx.prog}" requires exactly 1 argument.\n'
                         f"See '{ctx.prog} --help'.", 1)
    return image, _human(human)


async def cmd_history(ctx: Context) -> int:
    args = ctx.args
    args.image, human = _image_and_human(ctx)
    if args.platform:
        image = await ctx.engine.images.get(args.image)
        wanted = args.platform.strip().lower().split("/")
        actual = [image.os, image.architecture]
        if wanted[:2] != actual[:len(wanted[:2])]:
            raise UsageError(f"image {args.image} is for {'/'.join(actual)}, not "
                             f"{args.platform}", 1)
    entries = await ctx.engine.images.history(args.image)
    if args.quiet:
        fmt = "{{.ID}}"
    elif args.format == "json":
        fmt = "{{json .}}"
    elif args.format and args.format != "table":
        fmt = args.format
    else:
        fmt = HUMAN_FORMAT if human else PLAIN_FORMAT
    now = time.time()
    rows = [history_row(e, trunc=not args.no_trunc, human=human, now=now) for e in entries]
    Formatter(fmt, HEADERS).write(rows, ctx.out)
    return 0


def _b_history(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default=None,
                   help="Format output using a custom template ('table', 'json' or a Go "
                   "template)")
    p.add_argument("-H", "--human", nargs="?", const="true", default="true",
                   help="Print sizes and dates in human readable format (default true)")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("--platform", default=None,
                   help='Show history for the given platform ("os[/arch[/variant]]")')
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    p.add_argument("image", nargs="?", default=None, metavar="IMAGE")


HISTORY = Command("history", "Show the history of an image", _b_history, cmd_history,
                  "IMAGE")
