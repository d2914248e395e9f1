"""The app's rooms import each other in one direction too (the rule and the finder are
tests/engine/test_layering.py's): the CLI, the window and the API server, and inside
the CLI its command groups, inside the API server its modules and routes, and inside
the window its feature packages and top modules (the bridge below every feature, the
frame below its plug-ins, mainwindow above them all)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.test_layering import _explain, cycles, import_graph

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.mark.parametrize(("top", "name", "room"), [
    (APP, "app", "app.desktop"),
    (APP / "cli", "app.cli", "app.cli.compose"),
    (APP / "api", "app.api", "app.api.routes"),
    (APP / "desktop", "app.desktop", "app.desktop.containers"),
])
def test_no_cycle_between_rooms(top: Path, name: str, room: str) -> None:
    edges = import_graph(top, name)
    assert room in edges  # the graph was read
    found = cycles(edges)
    assert not found, "\n\n".join(f"rooms in a cycle: {', '.join(group)}\n"
                                  f"{_explain(edges, group)}" for group in found)
