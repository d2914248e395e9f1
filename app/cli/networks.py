"""Network commands (network create/ls/inspect/rm/connect/disconnect).

Empty until the engine contract has network verbs; the ``network``
management command appears as soon as this list has entries.
"""

from __future__ import annotations

from app.cli.command import Command

__all__ = ["COMMANDS", "MANAGEMENT"]

COMMANDS: list[Command] = []
MANAGEMENT: list[Command] = []
