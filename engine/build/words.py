"""Variable substitution and quote removal in Dockerfile words, by Docker's shell-lexer rules.

BuildKit expands the arguments of ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL,
USER, VOLUME, WORKDIR (and ARG defaults) with its own small lexer, not a shell:
``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:+alt}``,
``${VAR+alt}``, ``${VAR:?message}``, single quotes (literal), double quotes
(variables expand, the escape character escapes only ``"``, ``$`` and itself),
and the escape character (``\\`` or the ``# escape=`` directive's) outside quotes.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.errors import InvalidArgument

__all__ = ["expand", "expand_variables", "expand_words"]

_EOF = ""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else _EOF

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        self.s = _Scanner(text)
        self.env = env
        self.escape = escape

    def words(self, split: bool) -> list[str]:
        """The words (split on blanks outside quotes) or, unsplit, the one word."""
        found: list[str] = []
        current: list[str] = []
        started = False  # a quote or character made a word, even an empty one
        while True:
            ch = self.s.peek()
            if ch == _EOF:
                break
            if split and ch in " \t\n":
                self.s.next()
                if started:
                    found.append("".join(current))
                current, started = [], False
                continue
            if ch == "'":
                self.s.next()
                current.append(self._single_quoted())
                started = True
            elif ch == '"':
                self.s.next()
                current.append(self._double_quoted())
                started = True
            elif ch == "$":
                value = self._dollar()
                # Unquoted, a variable's blanks split words, as docker's lexer does.
                pieces = value.split() if split else [value]
                if split and value[:1].isspace() and started:
                    found.append("".join(current))
                    current, started = [], False
                for index, piece in enumerate(pieces):
                    if index:
                        found.append("".join(current))
                        current = []
                    current.append(piece)
                    started = True
                if split and value[-1:].isspace() and started:
                    found.append("".join(current))
                    current, started = [], False
            elif ch == self.escape:
                self.s.next()
                following = self.s.next()
                if following != _EOF:
                    current.append(following)
                started = True
            else:
                current.append(self.s.next())
                started = True
        if started or not split:
            found.append("".join(current))
        return found

    def _single_quoted(self) -> str:
        out: list[str] = []
        while True:
            ch = self.s.next()
            if ch == _EOF:
                raise InvalidArgument("unexpected end of statement while looking for "
                                      "matching single-quote")
            if ch == "'":
                return "".join(out)
            out.append(ch)

    def _double_quoted(self) -> str:
        out: list[str] = []
        while True:
            ch = self.s.peek()
            if ch == _EOF:
                raise InvalidArgument("unexpected end of statement while looking for "
                                      "matching double-quote")
            if ch == '"':
                self.s.next()
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            self.s.next()
            if ch == self.escape and self.s.peek() in ('"', "$", self.escape):
                ch = self.s.next()
            out.append(ch)

    def _until(self, stop: str) -> str:
        """A word (with quotes and variables) up to the ``stop`` character, consumed."""
        out: list[str] = []
        while True:
            ch = self.s.peek()
            if ch == _EOF:
                raise InvalidArgument(f"missing '{stop}' in a variable substitution")
            if ch == stop:
                self.s.next()
                return "".join(out)
            if ch == "'":
                self.s.next()
                out.append(self._single_quoted())
            elif ch == '"':
                self.s.next()
                out.append(self._double_quoted())
            elif ch == "$":
                out.append(self._dollar())
            elif ch == self.escape:
                self.s.next()
                following = self.s.next()
                if following != _EOF:
                    out.append(following)
            else:
                out.append(self.s.next())

    def _name(self) -> str:
        first = self.s.peek()
        if first.isdigit():  # $1: positional, one digit, as docker reads it
            return self.s.next()
        out: list[str] = []
        while self.s.peek() and (self.s.peek().isalnum() or self.s.peek() == "_"):
            out.append(self.s.next())
        return "".join(out)

    def _dollar(self) -> str:
        self.s.next()  # the $
        if self.s.peek() != "{":
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.s.next()  # the {
        name = self._name()
        if not name:
            raise InvalidArgument("bad substitution: missing variable name in ${}")
        ch = self.s.next()
        if ch == "}":
            return self.env.get(name, "")
        colon = ch == ":"
        if colon:
            ch = self.s.next()
        if ch not in ("-", "+", "?"):
            raise InvalidArgument(f"unsupported modifier ({ch or 'end'}) in substitution "
                                  f"of ${{{name}}}")
        word = self._until("}")
        value = self.env.get(name)
        is_set = value is not None and (not colon or value != "")
        if ch == "-":
            return value if is_set and value is not None else word
        if ch == "+":
            return word if is_set else ""
        if not is_set:
            raise InvalidArgument(f"{name}: {word or 'is not allowed to be empty'}"
                                  if colon or word else f"{name}: is not allowed to be unset")
        return value or ""


def expand(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word with its variables substituted and quotes removed."""
    return _Lexer(text, env, escape).words(split=False)[0]


def expand_variables(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Variables alone (quotes kept as they are): a heredoc's content, as BuildKit expands
    a COPY heredoc whose delimiter is not quoted. ``\\$`` keeps a dollar sign."""
    out: list[str] = []
    lexer = _Lexer(text, env, escape)
    scanner = lexer.s
    while True:
        ch = scanner.peek()
        if ch == _EOF:
            return "".join(out)
        if ch == escape and scanner.pos + 1 < len(text) and text[scanner.pos + 1] == "$":
            scanner.next()
            out.append(scanner.next())
        elif ch == "$":
            out.append(lexer._dollar())
        else:
            out.append(scanner.next())


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Words split on blanks outside quotes, each expanded (EXPOSE, VOLUME and the like)."""
    return _Lexer(text, env, escape).words(split=True)
