"""``skiff compose build`` and ``up --build``: each service's ``build:`` through the builder."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from app.cli.command import Command, Context
from app.cli.compose.project import project_of, runner_of
from engine import Project

__all__ = ["COMMANDS", "build_services"]


async def build_services(ctx: Context, project: Project, services: Sequence[str] = (),
                         no_cache: bool = False, pull: bool = False) -> None:
    from engine import BuildOptions, open_context

    progress = runner_of(ctx, project).progress
    for name in services or sorted(project.services):
        spec = project.services[name]
        build = spec.get("build")
        if not build:
            continue
        tag = str(spec.get("image") or f"{project.name}-{name}")
        progress("Service", name, "Building")
        args = build.get("args") or {}
        if isinstance(args, list):
            args = dict(str(a).partition("=")[::2] for a in args)
        options = BuildOptions(dockerfile=str(build.get("dockerfile") or "Dockerfile"),
                               tags=(tag,), build_args={str(k): str(v) for k, v in args.items()},
                               target=str(build.get("target") or ""), no_cache=no_cache,
                               pull=pull, labels={str(k): str(v) for k, v in
                                                  (build.get("labels") or {}).items()})
        await ctx.engine.images.build(open_context(str(build["context"])), options)
        progress("Service", name, "Built")


def _b_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", action="store_true",
                   help="Do not use cache when building the image")
    p.add_argument("--pull", action="store_true",
                   help="Always attempt to pull a newer version of the image")
    p.add_argument("services", nargs="*", metavar="SERVICE")


async def cmd_build(ctx: Context) -> int:
    args = ctx.args
    await build_services(ctx, project_of(ctx), args.services, args.no_cache, args.pull)
    return 0


COMMANDS = [Command("build", "Build or rebuild services", _b_build, cmd_build, "[SERVICE...]")]
