"""A Dockerfile read as BuildKit reads it, into stages of checked instructions.

The lines are parsed by the ``dockerfile`` package, which wraps BuildKit's own
parser (continuations, comments, the ``escape`` and ``syntax`` directives,
heredocs, JSON and shell forms, flags). Here the result is checked the way
BuildKit checks it before building: known instructions, known flags for each,
the right number of arguments; every error names the file, line and instruction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from engine.errors import InvalidArgument

if TYPE_CHECKING:
    import dockerfile as parser

__all__ = ["Heredoc", "Instruction", "Parsed", "Stage", "escape_token", "parse"]

#: The flags each instruction takes (BuildKit's); None: takes no value.
_FLAGS: dict[str, dict[str, bool]] = {
    "FROM": {"platform": True},
    "RUN": {"network": True, "mount": True, "security": True},
    "COPY": {"from": True, "chown": True, "chmod": True, "link": False, "parents": False,
             "exclude": True},
    "ADD": {"chown": True, "chmod": True, "link": False, "keep-git-dir": False,
            "checksum": True, "exclude": True},
    "HEALTHCHECK": {"interval": True, "timeout": True, "start-period": True,
                    "start-interval": True, "retries": True},
}
_REPEATED = ("mount", "exclude")
KEYWORDS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
            "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
            "WORKDIR")
_ESCAPE = re.compile(r"^#\s*escape\s*=\s*(\S)\s*$", re.IGNORECASE)
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=")


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: "COPY"
    args: tuple[str, ...]
    flags: dict[str, str | None]  # --chown=1 → {"chown": "1"}; --link → {"link": None}
    json: bool  # exec (JSON) form
    original: str  # the instruction as written (continuations joined)
    line: int
    file: str = "Dockerfile"
    heredocs: tuple[Heredoc, ...] = ()
    trigger: str = ""  # ONBUILD: the instruction it holds, as written

    def error(self, message: str) -> InvalidArgument:
        return InvalidArgument(f"{self.file}:{self.line}: {self.keyword}: {message}")

    def flag(self, name: str, default: str = "") -> str:
        value = self.flags.get(name)
        return default if value is None else value


@dataclass
class Stage:
    index: int
    base: str  # as written (variables not yet expanded)
    name: str  # the AS name, lower case; "" without one
    platform: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Parsed:
    meta_args: list[Instruction]  # ARGs before the first FROM
    stages: list[Stage]
    escape: str


def escape_token(text: str) -> str:
    """The escape character the ``# escape=`` directive chose (``\\`` by default)."""
    for line in text.splitlines():
        match = _ESCAPE.match(line.strip())
        if match and match.group(1) in ("\\", "`"):
            return match.group(1)
        if not _DIRECTIVE.match(line.strip()):
            break
    return "\\"


def _parser() -> ModuleType:
    """BuildKit's parser, imported when a Dockerfile is read: it is Go, and its runtime
    starts threads at import, which a process that forks (the CLI's fork server,
    app/cli/forkserver.py) must not have."""
    import dockerfile

    return dockerfile


def parse(text: str, file: str = "Dockerfile") -> Parsed:
    """Stages and their instructions; InvalidArgument naming file and line otherwise."""
    parser = _parser()
    try:
        commands = parser.parse_string(text)
    except parser.GoParseError as exc:
        raise InvalidArgument(f"{file}: dockerfile parse error: {exc}") from None
    meta: list[Instruction] = []
    stages: list[Stage] = []
    for command in commands:
        instruction = _instruction(command, file)
        if instruction.keyword == "FROM":
            stages.append(_stage(instruction, len(stages)))
        elif not stages:
            if instruction.keyword != "ARG":
                raise InvalidArgument(f"{file}:{instruction.line}: no build stage in current "
                                      f"context: {instruction.keyword} comes before any FROM")
            meta.append(instruction)
        else:
            stages[-1].instructions.append(instruction)
    if not stages:
        raise InvalidArgument(f"{file}: the Dockerfile has no FROM instruction")
    names = [s.name for s in stages if s.name]
    for name in names:
        if names.count(name) > 1:
            raise InvalidArgument(f"{file}: duplicate stage name {name!r}")
    return Parsed(meta, stages, escape_token(text))


def parse_trigger(text: str, file: str, line: int) -> Instruction:
    """An ONBUILD trigger as a child build runs it."""
    commands = _parser().parse_string(text)
    if len(commands) != 1:
        raise InvalidArgument(f"{file}:{line}: ONBUILD: bad trigger {text!r}")
    instruction = _instruction(commands[0], file)
    return Instruction(instruction.keyword, instruction.args, instruction.flags,
                       instruction.json, instruction.original, line, file,
                       instruction.heredocs)


def _instruction(command: parser.Command, file: str) -> Instruction:
    keyword = command.cmd.upper()
    line = command.start_line
    if keyword not in KEYWORDS:
        raise InvalidArgument(f"{file}:{line}: dockerfile parse error on line {line}: "
                              f"unknown instruction: {command.cmd}")
    trigger = ""
    if keyword == "ONBUILD":
        sub = (command.sub_cmd or "").upper()
        if not sub:
            raise InvalidArgument(f"{file}:{line}: ONBUILD requires at least one argument")
        if sub in ("ONBUILD", "FROM", "MAINTAINER"):
            raise InvalidArgument(f"{file}:{line}: {sub} isn't allowed as an ONBUILD trigger")
        if sub not in KEYWORDS:
            raise InvalidArgument(f"{file}:{line}: dockerfile parse error on line {line}: "
                                  f"unknown instruction: {command.sub_cmd}")
        trigger = re.sub(r"(?is)^\s*onbuild\s+", "", command.original)
    flags = _flags(keyword if keyword != "ONBUILD" else "", command.flags, file, line)
    heredocs = tuple(Heredoc(h.name, h.content) for h in command.heredocs)
    instruction = Instruction(keyword, tuple(command.value), flags, bool(command.json),
                              command.original, line, file, heredocs, trigger)
    _check_arity(instruction)
    return instruction


def _flags(keyword: str, raw: tuple[str, ...], file: str, line: int) -> dict[str, str | None]:
    allowed = _FLAGS.get(keyword, {})
    flags: dict[str, str | None] = {}
    for text in raw:
        name, sep, value = text.removeprefix("--").partition("=")
        if name not in allowed:
            raise InvalidArgument(f"{file}:{line}: {keyword}: unknown flag: --{name}")
        if allowed[name] and not sep:
            raise InvalidArgument(f"{file}:{line}: {keyword}: missing a value on flag: "
                                  f"--{name}")
        if name in flags and name not in _REPEATED:
            raise InvalidArgument(f"{file}:{line}: {keyword}: duplicate flag specified: "
                                  f"--{name}")
        if name in flags and sep:  # --mount and --exclude repeat: one value a line
            value = f"{flags[name]}\n{value}"
        flags[name] = value if sep else None
    return flags


def _check_arity(ins: Instruction) -> None:
    count = len([a for a in ins.args if a != ""])
    if ins.keyword in ("ONBUILD", "HEALTHCHECK", "CMD", "ENTRYPOINT", "SHELL") and \
            ins.json:
        if ins.keyword == "SHELL" and not count:
            raise ins.error("SHELL requires at least one argument")
        return
    if ins.keyword == "SHELL" and not ins.json:
        raise ins.error("SHELL requires the arguments to be in JSON form")
    minimum = {"FROM": 1, "RUN": 1, "COPY": 2, "ADD": 2, "ENV": 1, "LABEL": 1, "ARG": 1,
               "WORKDIR": 1, "USER": 1, "EXPOSE": 1, "VOLUME": 1, "STOPSIGNAL": 1,
               "MAINTAINER": 1, "HEALTHCHECK": 1}.get(ins.keyword, 0)
    if ins.keyword in ("COPY", "ADD") and ins.heredocs:
        minimum = 2 if ins.args and ins.args[0].startswith("<<") else minimum
    if count < minimum:
        plural = "argument" if minimum == 1 else "arguments"
        raise ins.error(f"{ins.keyword} requires at least {_words(minimum)} {plural}")
    if ins.keyword in ("WORKDIR", "STOPSIGNAL", "USER", "MAINTAINER") and count > 1:
        raise ins.error(f"{ins.keyword} requires exactly one argument")


def _words(n: int) -> str:
    return {1: "one", 2: "two"}.get(n, str(n))


def _stage(ins: Instruction, index: int) -> Stage:
    args = list(ins.args)
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not re.fullmatch(r"[a-z][a-z0-9._-]*", name):
            raise ins.error(f"invalid name for build stage: {args[2]!r}, name can't start "
                            "with a number or contain symbols")
    elif len(args) != 1:
        raise ins.error("FROM requires either one or three arguments")
    return Stage(index, args[0], name, ins.flag("platform"), ins.line)
