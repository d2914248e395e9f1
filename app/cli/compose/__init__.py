"""``skiff compose``: multi-container applications from compose files, as Docker Compose runs them.

The model, loader and runner live in engine/compose/; these are the commands.
"""

from __future__ import annotations

from app.cli.command import Command
from app.cli.compose import building, lifecycle, listing, logs, oneoff
from app.cli.compose.project import add_project_flags

__all__ = ["MANAGEMENT", "add_project_flags"]

MANAGEMENT: list[Command] = [*lifecycle.COMMANDS, *listing.COMMANDS, *logs.COMMANDS,
                             *oneoff.COMMANDS, *building.COMMANDS]
