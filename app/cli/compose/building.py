"""``skiff compose build``: each service's ``build:`` through the builder (the engine's
compose runner builds; ``up --build`` and ``up`` of a missing image build there too)."""

from __future__ import annotations

import argparse

from app.cli.command import Command, Context
from app.cli.compose.project import runner_of

__all__ = ["COMMANDS"]


def _b_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", action="store_true",
                   help="Do not use cache when building the image")
    p.add_argument("--pull", action="store_true",
                   help="Always attempt to pull a newer version of the image")
    p.add_argument("services", nargs="*", metavar="SERVICE")


async def cmd_build(ctx: Context) -> int:
    args = ctx.args
    await runner_of(ctx).build(args.services, args.no_cache, args.pull)
    return 0


COMMANDS = [Command("build", "Build or rebuild services", _b_build, cmd_build, "[SERVICE...]")]
