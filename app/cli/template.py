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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Template", "TemplateError", "go_string"]


class TemplateError(Exception):
    """A format string that does not parse or cannot run over its data."""


_NO_VALUE = object()  # Go prints a missing map key as "<no value>"


def go_string(value: Any) -> str:
    """How Go's fmt %v prints a value that came from JSON-like data."""
    if value is _NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        items = " ".join(f"{go_string(k)}:{go_string(value[k])}" for k in sorted(value, key=str))
        return f"map[{items}]"
    return str(value)


def _truth(value: Any) -> bool:
    if value is _NO_VALUE or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


def _go_json(value: Any) -> str:
    text = json.dumps(None if value is _NO_VALUE else value, ensure_ascii=False,
                      separators=(",", ":"))
    # Go's encoder escapes these for HTML safety; docker's output has them so.
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key, _NO_VALUE)
        elif isinstance(value, list | tuple | str):
            try:
                value = value[int(key)]
            except (IndexError, ValueError, TypeError):
                raise TemplateError(f"error calling index: index out of range: {key}") from None
        else:
            raise TemplateError(f"can't index item of type {type(value).__name__}")
    return value


def _printf(fmt: str, *args: Any) -> str:
    # Go verbs map to Python's %-formatting for the common cases; %v and %q get Go's forms.
    converted: list[Any] = []
    verbs = re.findall(r"%[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])", fmt)
    arg_iter = iter(args)
    for verb in verbs:
        if verb == "%":
            continue
        arg = next(arg_iter, None)
        if verb == "v":
            converted.append(go_string(arg))
        elif verb == "q":
            converted.append(json.dumps(go_string(arg)))
        else:
            converted.append(arg)
    pyfmt = re.sub(r"%([-+# 0]*\d*(?:\.\d+)?)[vq]", r"%\1s", fmt)
    pyfmt = re.sub(r"%([-+# 0]*\d*(?:\.\d+)?)t", r"%\1s", pyfmt)
    try:
        return pyfmt % tuple(converted)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"error calling printf: {exc}") from None


def _compare(name: str, op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def compare(a: Any, *others: Any) -> bool:
        if not others:
            raise TemplateError(f"wrong number of args for {name}: want at least 2 got 1")
        try:
            if name == "eq":  # eq a b c: a equals any of b, c
                return any(op(a, b) for b in others)
            return op(a, others[0])
        except TypeError:
            raise TemplateError(f"error calling {name}: incompatible types for "
                                "comparison") from None
    return compare


def _slice(value: Any, *indexes: Any) -> Any:
    bounds = [int(i) for i in indexes]
    if len(bounds) == 1:
        return value[bounds[0]:]
    if len(bounds) >= 2:
        return value[bounds[0]:bounds[1]]
    return value


def _and(*args: Any) -> Any:
    result: Any = True
    for arg in args:
        result = arg
        if not _truth(arg):
            return arg
    return result


def _or(*args: Any) -> Any:
    result: Any = False
    for arg in args:
        result = arg
        if _truth(arg):
            return arg
    return result


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": _go_json,
    "join": lambda items, sep: sep.join(go_string(i) for i in (items or [])),
    "split": lambda text, sep: go_string(text).split(sep),
    "upper": lambda text: go_string(text).upper(),
    "lower": lambda text: go_string(text).lower(),
    "title": lambda text: go_string(text).title(),
    "truncate": lambda text, n: go_string(text)[:int(n)],
    "pad": lambda text, left, right: " " * int(left) + go_string(text) + " " * int(right),
    "println": lambda *args: " ".join(go_string(a) for a in args) + "\n",
    "print": lambda *args: "".join(go_string(a) for a in args),
    "printf": _printf,
    "index": _index,
    "len": lambda value: len(value) if value not in (None, _NO_VALUE) else 0,
    "slice": _slice,
    "not": lambda value: not _truth(value),
    "and": _and,
    "or": _or,
    "eq": _compare("eq", lambda a, b: a == b),
    "ne": _compare("ne", lambda a, b: a != b),
    "lt": _compare("lt", lambda a, b: a < b),
    "le": _compare("le", lambda a, b: a <= b),
    "gt": _compare("gt", lambda a, b: a > b),
    "ge": _compare("ge", lambda a, b: a >= b),
}


# -- lexing ---------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<var>\$\w*(?:\.\w+)*)
  | (?P<field>(?:\.\w+)+|\.)
  | (?P<ident>[A-Za-z_]\w*)
""", re.VERBOSE)


@dataclass
class _Token:
    kind: str
    text: str
    adjacent: bool  # no space before it: ").Field" chains onto the parenthesis


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    spaced = True
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise TemplateError(f"unexpected {text[pos]!r} in command")
        kind = match.lastgroup or ""
        if kind == "space":
            spaced = True
        else:
            tokens.append(_Token(kind, match.group(), not spaced))
            spaced = False
        pos = match.end()
    return tokens


# -- the tree -------------------------------------------------------------------

@dataclass
class _Operand:
    kind: str  # field | var | literal | ident | pipe
    value: Any = None
    chain: list[str] = field(default_factory=list)


@dataclass
class _Command:
    operands: list[_Operand]


@dataclass
class _Pipeline:
    commands: list[_Command]
    declare: list[str] = field(default_factory=list)
    assign: bool = False


@dataclass
class _Node:
    kind: str  # text | action | if | range | with
    text: str = ""
    pipe: _Pipeline | None = None
    body: list[_Node] = field(default_factory=list)
    orelse: list[_Node] = field(default_factory=list)


class _Parser:
    """Pipelines from an action's tokens."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def pipeline(self, allow_declare: bool = True) -> _Pipeline:
        declare: list[str] = []
        assign = False
        if allow_declare:
            # "$x :=", "$k, $v :=" (range), "$x ="
            save = self.pos
            names: list[str] = []
            while (tok := self.peek()) is not None and tok.kind == "var" and "." not in tok.text:
                names.append(self.take().text)
                nxt = self.peek()
                if nxt is not None and nxt.kind == "comma":
                    self.take()
                    continue
                break
            nxt = self.peek()
            if names and nxt is not None and nxt.kind in ("declare", "assign"):
                assign = self.take().kind == "assign"
                declare = names
            else:
                self.pos = save
        commands = [self.command()]
        while (tok := self.peek()) is not None and tok.kind == "pipe":
            self.take()
            commands.append(self.command())
        return _Pipeline(commands, declare, assign)

    def command(self) -> _Command:
        operands: list[_Operand] = []
        while (tok := self.peek()) is not None and tok.kind not in ("pipe", "rparen"):
            operands.append(self.operand())
        if not operands:
            raise TemplateError("missing value for command")
        return _Command(operands)

    def operand(self) -> _Operand:
        tok = self.take()
        if tok.kind == "field":
            chain = [] if tok.text == "." else tok.text[1:].split(".")
            return _Operand("field", chain=chain)
        if tok.kind == "var":
            name, *chain = tok.text.split(".")
            return _Operand("var", name, chain)
        if tok.kind == "string":
            try:
                return _Operand("literal", json.loads(tok.text))
            except json.JSONDecodeError:
                raise TemplateError(f"bad string {tok.text}") from None
        if tok.kind == "raw":
            return _Operand("literal", tok.text[1:-1])
        if tok.kind == "number":
            number: Any = float(tok.text) if "." in tok.text else int(tok.text)
            return _Operand("literal", number)
        if tok.kind == "ident":
            if tok.text in ("true", "false"):
                return _Operand("literal", tok.text == "true")
            if tok.text == "nil":
                return _Operand("literal", None)
            if tok.text not in FUNCTIONS:
                raise TemplateError(f'function "{tok.text}" not defined')
            return _Operand("ident", tok.text)
        if tok.kind == "lparen":
            inner = self.pipeline()
            if self.peek() is None or self.take().kind != "rparen":
                raise TemplateError("unclosed left paren")
            tail: list[str] = []
            nxt = self.peek()
            if nxt is not None and nxt.kind == "field" and nxt.adjacent and nxt.text != ".":
                tail = self.take().text[1:].split(".")
            return _Operand("pipe", inner, tail)
        raise TemplateError(f"unexpected {tok.text!r} in operand")


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def _parse(source: str) -> list[_Node]:
    # Split into text and actions, applying the trim markers.
    pieces: list[tuple[str, str]] = []
    pos = 0
    for match in _ACTION.finditer(source):
        text = source[pos:match.start()]
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        pieces.append(("action", match.group(2).strip()))
        pos = match.end()
        if match.group(3):
            rest = source[pos:]
            pos += len(rest) - len(rest.lstrip())
    pieces.append(("text", source[pos:]))

    root: list[_Node] = []
    stack: list[tuple[_Node | None, list[_Node]]] = [(None, root)]
    for kind, text in pieces:
        container = stack[-1][1]
        if kind == "text":
            if text:
                container.append(_Node("text", text))
            continue
        if text.startswith("/*"):
            continue
        word, _, rest = text.partition(" ")
        if word in ("if", "range", "with"):
            node = _Node(word, pipe=_Parser(_lex(rest)).pipeline())
            container.append(node)
            stack.append((node, node.body))
        elif word == "else":
            block = stack[-1][0]
            if block is None:
                raise TemplateError("unexpected {{else}}")
            rest = rest.strip()
            if rest.startswith("if ") or rest.startswith("with "):
                # "else if X" is an if nested in the else branch, closed by the same end.
                sub_word, _, sub_rest = rest.partition(" ")
                inner = _Node(sub_word, pipe=_Parser(_lex(sub_rest)).pipeline())
                block.orelse.append(inner)
                stack[-1] = (block, [])  # the outer block's branch is done
                stack.append((inner, inner.body))
                inner.text = "chained"
            else:
                stack[-1] = (block, block.orelse)
        elif word == "end":
            if len(stack) == 1:
                raise TemplateError("unexpected {{end}}")
            # Close chained "else if" blocks along with the block that started them.
            while True:
                closed, _ = stack.pop()
                if closed is None or closed.text != "chained":
                    break
        else:
            parser = _Parser(_lex(text))
            pipe = parser.pipeline()
            extra = parser.peek()
            if extra is not None:
                raise TemplateError(f"unexpected {extra.text!r} in command")
            container.append(_Node("action", pipe=pipe))
    if len(stack) != 1:
        raise TemplateError("unexpected EOF: missing {{end}}")
    return root


# -- execution ------------------------------------------------------------------

def _field(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        if name in value:
            return value[name]
        # A struct-like object (every key capitalised, as docker's JSON) has no such
        # field: Go reports that; a plain map (labels, options) gives "<no value>".
        if value and all(isinstance(k, str) and k[:1].isupper() for k in value):
            raise TemplateError(f"can't evaluate field {name}")
        return _NO_VALUE
    if value is None or value is _NO_VALUE:
        if value is _NO_VALUE:
            return _NO_VALUE
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


def _eval_operand(op: _Operand, dot: Any, scope: _Scope) -> Any:
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


def _eval_command(cmd: _Command, dot: Any, scope: _Scope, piped: Any, has_piped: bool) -> Any:
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


def _eval_pipeline(pipe: _Pipeline, dot: Any, scope: _Scope) -> Any:
    value: Any = None
    has_piped = False
    for cmd in pipe.commands:
        value = _eval_command(cmd, dot, scope, value, has_piped)
        has_piped = True
    for name in pipe.declare:
        scope.set(name, value, declare=not pipe.assign)
    return value


def _run(nodes: list[_Node], dot: Any, scope: _Scope, out: list[str]) -> None:
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
                if _truth(value):
                    _run(node.body, value if node.kind == "with" else dot, scope, out)
                else:
                    _run(node.orelse, dot, scope, out)
            finally:
                scope.frames.pop()
        elif node.kind == "range":
            _run_range(node, dot, scope, out)


def _run_range(node: _Node, dot: Any, scope: _Scope, out: list[str]) -> None:
    assert node.pipe is not None
    names = node.pipe.declare
    plain = _Pipeline(node.pipe.commands)
    value = _eval_pipeline(plain, dot, scope)
    if isinstance(value, dict):
        items = [(k, value[k]) for k in sorted(value, key=str)]
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    elif value is None or value is _NO_VALUE:
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
            self.nodes = _parse(source)
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
