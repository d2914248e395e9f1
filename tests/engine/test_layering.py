"""The engine's rooms import each other in one direction: no cycle between packages.

A room is a subpackage of ``engine`` (``engine.containers``, ``engine.helper`` with
all it holds, ``engine.wire``...); each module directly in ``engine/`` (``errors``,
``names``, ``engine``, the facade's ``__init__``...) is a room of its own. The same
holds one level down in the helper (``engine.helper.runtime``, ``.network``,
``.containers``..., and ``server``, ``verbs``, ``syscalls``... each a room). The graph
is read from the source (ast), every import counted, those under TYPE_CHECKING too:
a type-only cycle is still two rooms that cannot be understood one without the other.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"
HELPER = ENGINE / "helper"

Edges = dict[str, dict[str, list[str]]]  # room -> room it imports -> "module -> module" lines


def _module_name(path: Path, top: Path, name: str) -> str:
    parts = [name, *path.relative_to(top).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, package: str, modules: set[str]) -> list[str]:
    """The modules of the tree an import statement names (``from p import m``: p.m)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    submodules = [f"{source}.{alias.name}" for alias in node.names
                  if f"{source}.{alias.name}" in modules]
    if len(submodules) == len(node.names):
        return submodules
    return [*([source] if source in modules else []), *submodules]


def import_graph(top: Path, name: str = "") -> Edges:
    """Room to room imports of the package at ``top`` (named ``name``, else its
    directory's name); imports of modules outside it are not counted."""
    name = name or top.name
    paths = {_module_name(path, top, name): path for path in top.rglob("*.py")}
    modules = set(paths)
    depth = name.count(".") + 1

    def room(module: str) -> str:
        parts = module.split(".")
        if len(parts) > depth and (top / parts[depth]).is_dir():
            return ".".join(parts[:depth + 1])
        return module

    edges: Edges = defaultdict(lambda: defaultdict(list))
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _imported(node, package, modules):
                if room(target) != room(module):
                    edges[room(module)][room(target)].append(f"{module} -> {target}")
    return edges


def cycles(edges: Edges) -> list[list[str]]:
    """The strongly connected groups of more than one room (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def _explain(edges: Edges, group: list[str]) -> str:
    return "\n".join(line for room in group for other, lines in sorted(edges[room].items())
                     if other in group for line in sorted(set(lines)))


@functools.cache
def _engine() -> Edges:
    return import_graph(ENGINE)


def test_no_cycle_between_the_engines_rooms() -> None:
    edges = _engine()
    assert "engine.helper" in edges and "engine.wire" in edges  # the graph was read
    found = cycles(edges)
    assert not found, "\n\n".join(f"rooms in a cycle: {', '.join(group)}\n"
                                  f"{_explain(edges, group)}" for group in found)


def test_no_cycle_between_the_helpers_rooms() -> None:
    edges = import_graph(HELPER, "engine.helper")
    assert "engine.helper.runtime" in edges and "engine.helper.server" in edges
    found = cycles(edges)
    assert not found, "\n\n".join(f"rooms in a cycle: {', '.join(group)}\n"
                                  f"{_explain(edges, group)}" for group in found)


def test_only_the_helper_imports_the_helper() -> None:
    """The engine reaches the helper through engine.wire's protocol, never its code."""
    edges = _engine()
    importers = sorted(room for room, targets in edges.items() if "engine.helper" in targets)
    assert importers == [], "\n".join(
        line for room in importers for line in edges[room]["engine.helper"])


def test_the_contract_imports_neither_side() -> None:
    """engine.wire (what the engine and the helper agree on) uses only engine's
    top-level rule modules (errors, names, timestamps), no room of either side."""
    rooms = sorted(other for other in _engine().get("engine.wire", {})
                   if (ENGINE / other.split(".")[1]).is_dir())
    assert rooms == []


@pytest.mark.parametrize("type_only", [False, True])
def test_a_cycle_is_found_and_named(tmp_path: Path, type_only: bool) -> None:
    """The finder itself: two rooms importing each other (one of them only for types)
    are reported with the imports that close the cycle; a one-way import is not."""
    top = tmp_path / "engine"
    for room in ("a", "b", "c"):
        (top / room).mkdir(parents=True)
        (top / room / "__init__.py").write_text("")
    (top / "__init__.py").write_text("")
    (top / "errors.py").write_text("")
    (top / "a" / "one.py").write_text("from engine.b import two\nfrom engine import errors\n")
    back = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a.one import X\n"
            if type_only else "from engine.a import one\n")
    (top / "b" / "two.py").write_text(back)
    (top / "c" / "three.py").write_text("import engine.a.one\n")
    edges = import_graph(top)
    assert cycles(edges) == [["engine.a", "engine.b"]]
    assert _explain(edges, ["engine.a", "engine.b"]).splitlines() == [
        "engine.a.one -> engine.b.two", "engine.b.two -> engine.a.one"]
    (top / "b" / "two.py").write_text("from engine import errors\n")
    assert cycles(import_graph(top)) == []
