"""Parsing of Go's text/template: a format string into a tree of text and actions.

Actions are lexed into tokens, then into pipelines of commands (``.Field``,
``$var.Field``, literals, function calls, parenthesised pipelines); ``if``,
``range``, ``with``, ``else`` (and ``else if``) and ``end`` nest the tree.
Trim markers (``{{-``, ``-}}``) and comments are applied here.
"""

from __future__ import annotations

import json
import re

from app.cli.templatefunctions import FUNCTIONS, TemplateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Command", "Node", "Operand", "Pipeline", "parse"]


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


class _Token:
    __slots__ = ("adjacent", "kind", "text")

    def __init__(self, kind: str, text: str, adjacent: bool) -> None:
        self.kind, self.text = kind, text
        self.adjacent = adjacent  # no space before it: ").Field" chains onto the parenthesis


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
# Plain classes, not dataclasses: importing dataclasses (with inspect) would be ~10 ms
# of a first `skiff ps --format json` (tests/app/cli/test_cold_imports.py).

class Operand:
    __slots__ = ("chain", "kind", "value")

    def __init__(self, kind: str, value: Any = None, chain: list[str] | None = None) -> None:
        self.kind = kind  # field | var | literal | ident | pipe
        self.value = value
        self.chain = chain if chain is not None else []


class Command:
    __slots__ = ("operands",)

    def __init__(self, operands: list[Operand]) -> None:
        self.operands = operands


class Pipeline:
    __slots__ = ("assign", "commands", "declare")

    def __init__(self, commands: list[Command], declare: list[str] | None = None,
                 assign: bool = False) -> None:
        self.commands = commands
        self.declare = declare if declare is not None else []
        self.assign = assign


class Node:
    __slots__ = ("body", "kind", "orelse", "pipe", "text")

    def __init__(self, kind: str, text: str = "", pipe: Pipeline | None = None) -> None:
        self.kind = kind  # text | action | if | range | with
        self.text = text
        self.pipe = pipe
        self.body: list[Node] = []
        self.orelse: list[Node] = []


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

    def pipeline(self, allow_declare: bool = True) -> Pipeline:
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
        return Pipeline(commands, declare, assign)

    def command(self) -> Command:
        operands: list[Operand] = []
        while (tok := self.peek()) is not None and tok.kind not in ("pipe", "rparen"):
            operands.append(self.operand())
        if not operands:
            raise TemplateError("missing value for command")
        return Command(operands)

    def operand(self) -> Operand:
        tok = self.take()
        if tok.kind == "field":
            chain = [] if tok.text == "." else tok.text[1:].split(".")
            return Operand("field", chain=chain)
        if tok.kind == "var":
            name, *chain = tok.text.split(".")
            return Operand("var", name, chain)
        if tok.kind == "string":
            try:
                return Operand("literal", json.loads(tok.text))
            except json.JSONDecodeError:
                raise TemplateError(f"bad string {tok.text}") from None
        if tok.kind == "raw":
            return Operand("literal", tok.text[1:-1])
        if tok.kind == "number":
            number: Any = float(tok.text) if "." in tok.text else int(tok.text)
            return Operand("literal", number)
        if tok.kind == "ident":
            if tok.text in ("true", "false"):
                return Operand("literal", tok.text == "true")
            if tok.text == "nil":
                return Operand("literal", None)
            if tok.text not in FUNCTIONS:
                raise TemplateError(f'function "{tok.text}" not defined')
            return Operand("ident", tok.text)
        if tok.kind == "lparen":
            inner = self.pipeline()
            if self.peek() is None or self.take().kind != "rparen":
                raise TemplateError("unclosed left paren")
            tail: list[str] = []
            nxt = self.peek()
            if nxt is not None and nxt.kind == "field" and nxt.adjacent and nxt.text != ".":
                tail = self.take().text[1:].split(".")
            return Operand("pipe", inner, tail)
        raise TemplateError(f"unexpected {tok.text!r} in operand")


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def parse(source: str) -> list[Node]:
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

    root: list[Node] = []
    stack: list[tuple[Node | None, list[Node]]] = [(None, root)]
    for kind, text in pieces:
        container = stack[-1][1]
        if kind == "text":
            if text:
                container.append(Node("text", text))
            continue
        if text.startswith("/*"):
            continue
        word, _, rest = text.partition(" ")
        if word in ("if", "range", "with"):
            node = Node(word, pipe=_Parser(_lex(rest)).pipeline())
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
                inner = Node(sub_word, pipe=_Parser(_lex(sub_rest)).pipeline())
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
            container.append(Node("action", pipe=pipe))
    if len(stack) != 1:
        raise TemplateError("unexpected EOF: missing {{end}}")
    return root
