"""The app (CLI, window, API server) reaches the engine through ``engine`` alone.

``engine/__init__.py`` is the engine's public API: a client that imports one of
the engine's modules directly couples itself to what the engine may move, and
bypasses the types mypy checks it against. This walks every module of app/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import engine

APP = Path(__file__).resolve().parents[2] / "app"


def _engine_imports(path: Path) -> list[tuple[int, str]]:
    """(line, what) of every import of an engine module other than ``engine``, and of
    every name ``from engine import`` that is not in its ``__all__``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {alias.name}") for alias in node.names
                      if alias.name.startswith("engine.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("engine."):
                found.append((node.lineno, f"from {node.module} import ..."))
            elif node.module == "engine":
                found += [(node.lineno, f"from engine import {alias.name}")
                          for alias in node.names if alias.name not in engine.__all__]
        elif isinstance(node, ast.Attribute) and node.attr in _ENGINE_INSIDES:
            found.append((node.lineno, f"._{node.attr.lstrip('_')} (the engine's insides)"))
    return found


#: What the Engine facade keeps for its services and builder, never for a client.
_ENGINE_INSIDES = {"_shared", "_build_seam"}


def test_the_app_imports_only_the_engines_public_api() -> None:
    modules = sorted(APP.rglob("*.py"))
    assert len(modules) > 50, "app/ moved: point this test at it"
    wrong = [f"{path.relative_to(APP.parent)}:{line}: {what}"
             for path in modules for line, what in _engine_imports(path)]
    assert not wrong, "import these from `engine` (add them to its __all__ if they are " \
        "public API):\n" + "\n".join(wrong)


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    client = tmp_path / "client.py"
    client.write_text("from engine.containers.model import Container\n"
                      "import engine.errors\n"
                      "from engine import Engine, _table\n"
                      "sizes = engine._shared.image_store.layer_sizes()\n")
    assert [what for _, what in _engine_imports(client)] == [
        "from engine.containers.model import ...", "import engine.errors",
        "from engine import _table", "._shared (the engine's insides)"]
