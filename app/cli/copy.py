"""``skiff cp``: files between a container (running or stopped) and the host.

``CONTAINER:PATH`` names a path in a container; an argument that starts with
"/" or "." is always a host path, as docker decides. ``-`` streams a tar on
stdout (from a container) or reads one on stdin (into a container directory).
Where things land follows docker cp (engine/containers/files.py).
"""

from __future__ import annotations

import argparse
import sys

from app.cli.command import Command, Context
from app.cli.options import UsageError

__all__ = ["CP", "check_cp_args", "cmd_cp", "split_cp_arg"]


def split_cp_arg(arg: str) -> tuple[str, str]:
    """(container, path); container is "" for a host path."""
    if arg.startswith("/"):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep or container.startswith("."):
        return "", arg
    return container, path


def check_cp_args(ctx: Context) -> None:
    """docker's complaints, before the engine is even opened."""
    args = ctx.args
    if not args.source:
        raise UsageError("source can not be empty", status=1)
    if not args.destination:
        raise UsageError("destination can not be empty", status=1)
    src_container, _ = split_cp_arg(args.source)
    dst_container, _ = split_cp_arg(args.destination)
    if src_container and dst_container:
        raise UsageError("copying between containers is not supported", status=1)
    if not src_container and not dst_container:
        raise UsageError("must specify at least one container source", status=1)


async def cmd_cp(ctx: Context) -> int:
    args = ctx.args
    check_cp_args(ctx)
    src_container, src_path = split_cp_arg(args.source)
    dst_container, dst_path = split_cp_arg(args.destination)
    if src_container:
        if dst_path == "-":
            await ctx.engine.containers.get_archive(src_container, src_path, ctx.out_bytes,
                                          follow_link=args.follow_link)
        else:
            await ctx.engine.containers.copy_from(src_container, src_path, dst_path,
                                       follow_link=args.follow_link, archive=args.archive)
    elif src_path == "-":
        stdin = getattr(ctx.stdin, "buffer", None) or sys.stdin.buffer
        await ctx.engine.containers.put_archive(dst_container, stdin, dst_path,
                                                archive=args.archive)
    else:
        await ctx.engine.containers.copy_to(dst_container, src_path, dst_path,
                                 follow_link=args.follow_link, archive=args.archive)
    return 0


def _b_cp(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--archive", action="store_true",
                   help="Archive mode (copy all uid/gid information)")
    p.add_argument("-L", "--follow-link", action="store_true",
                   help="Always follow symbol link in SRC_PATH")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="Suppress progress output during copy")
    p.add_argument("source", metavar="SRC")
    p.add_argument("destination", metavar="DEST")


CP = Command("cp", "Copy files/folders between a container and the local filesystem", _b_cp,
             cmd_cp, "CONTAINER:SRC_PATH DEST_PATH|-\n\tskiff cp [OPTIONS] SRC_PATH|- "
             "CONTAINER:DEST_PATH", precheck=check_cp_args)
