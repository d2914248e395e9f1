"""``engine``'s public API: every exported name resolves, lazily.

Importing ``engine`` must stay cheap: the per-container monitor imports parts of
it right after exec, and ``skiff ps`` should import only what listing needs.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import engine

REPO = Path(__file__).resolve().parents[2]


def test_every_public_name_resolves_to_what_its_home_defines() -> None:
    assert engine.__all__ == sorted(engine.__all__, key=lambda n: (not n.isupper(), n))
    for name in engine.__all__:
        value = getattr(engine, name)
        assert value is not None, name
        module, _, there = engine._table()[name].partition(":")
        assert getattr(sys.modules[module], there or name) is value


def test_the_one_table_is_read_as_python_reads_its_imports() -> None:
    """``engine/__init__.py``'s TYPE_CHECKING block is both what mypy checks clients
    against and, read at run time, where each name is imported from."""
    source = (REPO / "engine" / "__init__.py").read_text()
    block = next(node for node in ast.parse(source).body if isinstance(node, ast.If))
    imports = {alias.asname or alias.name: node.module + (f":{alias.name}" if alias.asname else "")
               for node in block.body if isinstance(node, ast.ImportFrom) and node.module
               for alias in node.names}
    assert all(isinstance(node, ast.ImportFrom) for node in block.body)
    assert len(imports) > 100 and engine._read_table(source) == imports == engine._table()
    assert engine._read_table("x\nif TYPE_CHECKING:\n    from a.b import (\n        C,\n"
                             "        d as e,\n    )\n    from f import g\n\nh = 1\n") == {
        "C": "a.b", "e": "a.b:d", "g": "f"}


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        engine.Nothing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "Nothing" in str(exc)
    else:
        raise AssertionError("engine.Nothing resolved")


def _modules_after(code: str, root: Path | None = None) -> set[str]:
    env = {**os.environ, "SKIFF_ROOT": str(root)} if root else None
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\n"
                          "print('\\n'.join(sys.modules))"], cwd=REPO, check=True,
                         capture_output=True, text=True, env=env).stdout
    return set(out.split())


def test_importing_engine_imports_none_of_it() -> None:
    loaded = _modules_after("import engine")
    assert not {m for m in loaded if m.startswith("engine.")}
    assert "asyncio" not in loaded and "sqlite3" not in loaded


def test_a_service_is_imported_on_first_use(tmp_path: Path) -> None:
    loaded = _modules_after("from engine import Engine\n"
                            "Engine().containers", tmp_path)
    assert "engine.services.containers" in loaded
    for unused in ("engine.services.images", "engine.services.events",
                   "engine.services.networks", "engine.registry.service"):
        assert unused not in loaded, unused
