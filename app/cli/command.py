"""What every CLI command is made of: its parser set-up, its coroutine, its context.

These are plain classes, not dataclasses nor NamedTuples: every command starts by
importing this module, a dataclass generates its methods through ``exec`` at import
and a typing.NamedTuple compiles each field's annotation (~2 ms, then ~1.4 ms, of a
first `skiff ps` run with no server up)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Coroutine

from engine import HelperUnavailable, SkiffError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, TextIO

    from engine import Engine

__all__ = ["Command", "CommandRef", "Context", "UsageError", "daemon_message", "lazy"]


class UsageError(Exception):
    """A flag or argument the user got wrong; printed with "See 'skiff CMD --help'."."""

    def __init__(self, message: str, status: int = 125) -> None:
        super().__init__(message)
        self.status = status


class Context:
    """What a command runs with: the engine, our streams, our environment."""

    def __init__(self, args: argparse.Namespace, prog: str, out: TextIO | None = None,
                 err: TextIO | None = None, stdin: TextIO | None = None,
                 environ: dict[str, str] | None = None) -> None:
        self.args = args
        self.prog = prog
        self.out: TextIO = sys.stdout if out is None else out
        self.err: TextIO = sys.stderr if err is None else err
        self.stdin: TextIO = sys.stdin if stdin is None else stdin
        self.environ: dict[str, str] = dict(os.environ) if environ is None else environ
        self.status = 0  # set to 1 when one of several arguments failed
        self.opened: Engine | None = None  # None while a pure command runs without one

    @property
    def engine(self) -> Engine:
        """The open engine (only commands with ``needs_engine`` have one)."""
        if self.opened is None:
            raise RuntimeError("this command runs without the engine")
        return self.opened

    def error(self, message: str) -> None:
        self.out.flush()
        self.err.write(message.rstrip("\n") + "\n")
        self.err.flush()

    def daemon_error(self, exc: SkiffError) -> None:
        """One argument of several failed: say so, carry on, and exit 1 at the end
        (unless no argument can succeed: without the helper, say that once)."""
        if isinstance(exc, HelperUnavailable):
            raise exc
        self.error(daemon_message(exc))
        self.status = 1

    @property
    def out_bytes(self) -> IO[bytes]:
        self.out.flush()
        return getattr(self.out, "buffer", None) or sys.stdout.buffer

    @property
    def err_bytes(self) -> IO[bytes]:
        self.err.flush()
        return getattr(self.err, "buffer", None) or sys.stderr.buffer


if TYPE_CHECKING:  # for annotations only: at run time, Any would import typing
    # A coroutine, or (a command that needs no engine nor event loop) a plain function.
    Handler = Callable[[Context], Coroutine[Any, Any, int] | int]


class Command:
    """One command: its parser set-up and its coroutine.

    ``usage_args``: "CONTAINER [CONTAINER...]" for the usage line; ``engine_status``:
    the exit status for an engine error (run/create: 125); ``prefix_errors``: docker
    prints "docker: ..." for run/create errors; ``hide_help_short``: -h means
    something else (run -h HOSTNAME); ``precheck``: flag checks needing no engine.
    """

    __slots__ = ("aliases", "build", "engine_status", "help", "hide_help_short", "name",
                 "needs_engine", "precheck", "prefix_errors", "run", "usage_args")

    def __init__(self, name: str, help: str,
                 build: Callable[[argparse.ArgumentParser], None], run: Handler,
                 usage_args: str = "", aliases: tuple[str, ...] = (), engine_status: int = 1,
                 needs_engine: bool = True, prefix_errors: bool = False,
                 hide_help_short: bool = False,
                 precheck: Callable[[Context], None] | None = None) -> None:
        self.name = name
        self.help = help
        self.build = build
        self.run = run
        self.usage_args = usage_args
        self.aliases = aliases
        self.engine_status = engine_status
        self.needs_engine = needs_engine
        self.prefix_errors = prefix_errors
        self.hide_help_short = hide_help_short
        self.precheck = precheck

    def __repr__(self) -> str:
        return f"Command({self.name!r})"


class CommandRef:
    """A command that another module defines, named in a table by its name and help
    line (as its Command has them: tests/app/cli/test_tables.py).

    ``target`` ("app.cli.attach:EXEC") is imported when the command is chosen
    (or the whole tree is built), so a table costs no imports, nor does the list
    of commands ``skiff --help`` prints.
    """

    __slots__ = ("aliases", "help", "name", "target")

    def __init__(self, name: str, help: str, target: str,
                 aliases: tuple[str, ...] = ()) -> None:
        self.name = name
        self.help = help
        self.target = target
        self.aliases = aliases

    def __repr__(self) -> str:
        return f"CommandRef({self.name!r}, {self.target!r})"

    def load(self) -> Command:
        module, _, attribute = self.target.partition(":")
        command: Command = getattr(importlib.import_module(module), attribute)
        return command


def lazy(target: str) -> Callable[..., Any]:
    """``"package.module:function"``, imported when first called.

    A command table names its commands' code this way, so building the parser
    for one command (or running it) imports that command's module and no other.
    """
    module, _, name = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    return call


def daemon_message(exc: SkiffError) -> str:
    if isinstance(exc, HelperUnavailable):
        return str(exc)  # no daemon answered: as docker's "Cannot connect to the Docker daemon"
    return f"Error response from daemon: {exc}"
