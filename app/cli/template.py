"""A subset of Go's text/template, enough for docker-style ``--format`` strings.

Scripts pass docker things like ``{{.ID}}``, ``{{json .Config}}``,
``{{index .Config.Labels "k"}}``, ``{{range .Mounts}}{{.Source}} {{end}}`` or
``{{range $p, $b := .NetworkSettings.Ports}}{{$p}}{{end}}``; this module runs
them over plain dicts and lists. Supported: fields and chains, variables,
pipelines with ``|``, parentheses, string/number/bool literals, ``if``/``else``/
``else if``/``range``/``with``/``end``, ``{{-``/``-}}`` trimming, comments, and
docker's functions (json, join, split, upper, lower, title, truncate, pad,
println) plus Go's (index, len, eq, ne, lt, le, gt, ge, and, or, not, print,
printf, slice).

templateparser turns a format string into a tree, templatefunctions holds the
values and functions; this module runs a parsed template over its data.
"""

from __future__ import annotations

from app.cli.templatefunctions import FUNCTIONS, NO_VALUE, TemplateError, go_string, truth
from app.cli.templateparser import Command, Node, Operand, Pipeline, parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Template", "TemplateError", "go_string"]


def _field(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        if name in value:
            return value[name]
        # A struct-like object (every key capitalised, as docker's JSON) has no such
        # field: Go reports that; a plain map (labels, options) gives "<no value>".
        if value and all(isinstance(k, str) and k[:1].isupper() for k in value):
            raise TemplateError(f"can't evaluate field {name}")
        return NO_VALUE
    if value is None or value is NO_VALUE:
        if value is NO_VALUE:
            return NO_VALUE
        raise TemplateError(f"nil pointer evaluating .{name}")
    raise TemplateError(f"can't evaluate field {name} in type {type(value).__name__}")


class _Scope:
    def __init__(self, root: Any) -> None:
        self.frames: list[dict[str, Any]] = [{"$": root}]

    def get(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        raise TemplateError(f"undefined variable: {name}")

    def set(self, name: str, value: Any, declare: bool) -> None:
        if declare:
            self.frames[-1][name] = value
            return
        for frame in reversed(self.frames):
            if name in frame:
                frame[name] = value
                return
        raise TemplateError(f"undefined variable: {name}")


def _eval_operand(op: Operand, dot: Any, scope: _Scope) -> Any:
    if op.kind == "literal":
        return op.value
    if op.kind == "field":
        value = dot
    elif op.kind == "var":
        value = scope.get(op.value)
    elif op.kind == "pipe":
        value = _eval_pipeline(op.value, dot, scope)
    else:  # a function named as an argument: called without arguments
        return FUNCTIONS[op.value]()
    for name in op.chain:
        value = _field(value, name)
    return value


def _eval_command(cmd: Command, dot: Any, scope: _Scope, piped: Any, has_piped: bool) -> Any:
    first = cmd.operands[0]
    if first.kind == "ident":
        args = [_eval_operand(op, dot, scope) for op in cmd.operands[1:]]
        if has_piped:
            args.append(piped)
        try:
            return FUNCTIONS[first.value](*args)
        except TemplateError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise TemplateError(f"error calling {first.value}: {exc}") from None
    if len(cmd.operands) > 1 or has_piped:
        raise TemplateError("can't give argument to non-function")
    return _eval_operand(first, dot, scope)


def _eval_pipeline(pipe: Pipeline, dot: Any, scope: _Scope) -> Any:
    value: Any = None
    has_piped = False
    for cmd in pipe.commands:
        value = _eval_command(cmd, dot, scope, value, has_piped)
        has_piped = True
    for name in pipe.declare:
        scope.set(name, value, declare=not pipe.assign)
    return value


def _run(nodes: list[Node], dot: Any, scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
            continue
        assert node.pipe is not None
        if node.kind == "action":
            value = _eval_pipeline(node.pipe, dot, scope)
            if not node.pipe.declare:
                out.append(go_string(value))
        elif node.kind in ("if", "with"):
            scope.frames.append({})
            try:
                value = _eval_pipeline(node.pipe, dot, scope)
                if truth(value):
                    _run(node.body, value if node.kind == "with" else dot, scope, out)
                else:
                    _run(node.orelse, dot, scope, out)
            finally:
                scope.frames.pop()
        elif node.kind == "range":
            _run_range(node, dot, scope, out)


def _run_range(node: Node, dot: Any, scope: _Scope, out: list[str]) -> None:
    assert node.pipe is not None
    names = node.pipe.declare
    plain = Pipeline(node.pipe.commands)
    value = _eval_pipeline(plain, dot, scope)
    if isinstance(value, dict):
        items = [(k, value[k]) for k in sorted(value, key=str)]
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    elif value is None or value is NO_VALUE:
        items = []
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [(i, i) for i in range(value)]
    else:
        raise TemplateError(f"range can't iterate over {go_string(value)}")
    if not items:
        _run(node.orelse, dot, scope, out)
        return
    for key, item in items:
        scope.frames.append({})
        try:
            if len(names) == 1:
                scope.set(names[0], item, declare=True)
            elif len(names) >= 2:
                scope.set(names[0], key, declare=True)
                scope.set(names[1], item, declare=True)
            _run(node.body, item, scope, out)
        finally:
            scope.frames.pop()


class Template:
    """A parsed format string; ``render(data)`` runs it over JSON-like data."""

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self.nodes = parse(source)
        except TemplateError as exc:
            raise TemplateError(f"template parsing error: {exc}") from None

    def render(self, data: Any) -> str:
        out: list[str] = []
        try:
            _run(self.nodes, data, _Scope(data), out)
        except TemplateError as exc:
            raise TemplateError(f"template: executing: {exc}") from None
        except RecursionError:
            raise TemplateError("template: executing: too deeply nested") from None
        return "".join(out)

