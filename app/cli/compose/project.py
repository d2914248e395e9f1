"""What every ``skiff compose`` command starts from: the project and a way to tell progress.

The group's flags (``-f``, ``-p``, ``--project-directory``, ``--env-file``,
``--profile``) come before the command, as with ``docker compose``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from app.cli.command import Context
from app.cli.options import UsageError
from engine import InvalidArgument, LoadOptions, Project, Runner, load_project

__all__ = ["add_project_flags", "project_of", "runner_of"]


def add_project_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--file", action="append", default=[], metavar="FILE",
                   help="Compose configuration files")
    p.add_argument("-p", "--project-name", default="", help="Project name")
    p.add_argument("--project-directory", default="",
                   help="Specify an alternate working directory (default: the path of the "
                        "first specified Compose file)")
    p.add_argument("--env-file", action="append", default=[], metavar="FILE",
                   help="Specify an alternate environment file")
    p.add_argument("--profile", action="append", default=[],
                   help="Specify a profile to enable")


def project_of(ctx: Context) -> Project:
    """The project the flags name; a file's mistake is told as Compose tells it (exit 1)."""
    args = ctx.args
    files = list(getattr(args, "file", [])) or \
        [f for f in ctx.environ.get("COMPOSE_FILE", "").split(":") if f]
    directory = getattr(args, "project_directory", "")
    try:
        return load_project(LoadOptions(
            files=[Path(f) for f in files], project_name=getattr(args, "project_name", ""),
            project_directory=Path(directory).absolute() if directory else None,
            env_files=[Path(f) for f in getattr(args, "env_file", [])],
            profiles=list(getattr(args, "profile", [])),
            workdir=Path.cwd(), environ=ctx.environ))
    except InvalidArgument as exc:
        name = getattr(args, "project_name", "")
        if name and not files and str(exc).startswith("no configuration file"):
            # `compose -p NAME ps/down/...` without files: the project its labels make
            return Project.labelled(name, dict(ctx.environ))
        raise UsageError(str(exc), status=1) from None


class Progress:
    """Compose's plain progress lines on stderr: `` Container web-1  Started``."""

    def __init__(self, err: TextIO) -> None:
        self.err = err

    def __call__(self, kind: str, name: str, what: str) -> None:
        if kind == "Warning":
            self.err.write(f"WARN[0000] {what}\n")
        else:
            self.err.write(f" {kind} {name}  {what}\n")
        self.err.flush()


def runner_of(ctx: Context, project: Project | None = None) -> Runner:
    return Runner(ctx.engine, project or project_of(ctx), Progress(ctx.err))
