"""Volume commands (volume create/ls/inspect/rm/prune).

Empty until the engine contract has volume verbs; the ``volume``
management command appears as soon as this list has entries.
"""

from __future__ import annotations

from app.cli.command import Command

__all__ = ["COMMANDS", "MANAGEMENT"]

COMMANDS: list[Command] = []
MANAGEMENT: list[Command] = []
