"""The command tables: every command named by reference loads as itself, and
choosing one command loads none of the others' code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.cli import containers, images, networks, registry, system, volumes
from app.cli.command import CommandRef

TABLES = [containers.COMMANDS, containers.MANAGEMENT, images.COMMANDS, images.MANAGEMENT,
          registry.COMMANDS, system.COMMANDS, system.MANAGEMENT, networks.MANAGEMENT,
          volumes.MANAGEMENT]


@pytest.mark.parametrize("entry", [e for table in TABLES for e in table
                                   if isinstance(e, CommandRef)], ids=lambda e: e.target)
def test_a_reference_loads_the_command_it_names(entry: CommandRef) -> None:
    command = entry.load()
    assert command.name == entry.name
    assert command.help == entry.help
    assert command.aliases == entry.aliases


def _modules_after(code: str) -> set[str]:
    found = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                            "print('\\n'.join(sorted(sys.modules)))"],
                           capture_output=True, text=True, check=True).stdout
    return set(found.split())


def test_parsing_ps_loads_no_other_command_nor_asyncio() -> None:
    loaded = _modules_after("from app.cli.main import build_parser\n"
                            "build_parser(['ps']).parse_args(['ps', '-a'])")
    assert "app.cli.ps" in loaded
    for heavy in ("asyncio", "app.cli.run", "app.cli.createflags", "app.cli.attach",
                  "app.cli.build", "app.cli.compose", "app.cli.images"):
        assert heavy not in loaded, heavy
