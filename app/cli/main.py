"""The ``skiff`` command line: docker's commands, flags, output and exit codes.

Parsing is argparse with one sub-parser a command; each group module
(containers, images, registry, system, ...) lists its commands as
:class:`Command` entries, and ``container ...``/``image ...`` management
commands reuse the same entries under docker's names. Every command runs as a
coroutine with one opened :class:`Engine`. Errors are handled here, once:
an engine error is one line on stderr, a flag error is docker's two lines and
exit 125, Ctrl-C is exit 130, and no user mistake ever shows a traceback.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal imports enum's IntEnum set-up
import argparse
import functools
import gc
import importlib
import os
import sys
from collections.abc import Sequence

from app.cli.command import Command, CommandRef, Context, UsageError, daemon_message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["build_parser", "main"]

PROG = "skiff"

# Skiff's words are English, as docker's are: argparse's own messages need no
# catalogue, for which gettext searched the disk at each one (a `ps`'s parser and
# parse 0.46 -> 0.23 ms, 0.49 -> 0.15 with a German locale) and imported locale.
setattr(argparse, "_", str)  # noqa: B010 (argparse's module global, not an attribute of it)
setattr(argparse, "ngettext", lambda one, many, n: one if n == 1 else many)  # noqa: B010


@functools.cache
def _columns() -> int:
    """The terminal's width, as shutil.get_terminal_size finds it."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's, with the width found once: argparse makes one for every
    add_argument (to check its nargs), and finding the width imported shutil,
    bz2 and lzma (~1.5 ms of a 50 ms `skiff ps`)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse that reports mistakes as UsageError instead of exiting with its usage."""

    def __init__(self, *args: Any, arg_rule: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self.arg_rule = arg_rule

    def error(self, message: str) -> NoReturn:
        if message.startswith("the following arguments are required"):
            rule = self.arg_rule or self._default_rule()
            raise UsageError(f'"{self.prog}" requires {rule}.\nSee \'{self.prog} --help\'.',
                             status=1)
        if message.startswith("argument COMMAND: invalid choice"):
            word = message.split("'")[1] if "'" in message else "?"
            raise UsageError(f"{self.prog}: '{word}' is not a {self.prog} command.\n"
                             f"See '{self.prog} --help'", status=1)
        raise UsageError(f"{message}\nSee '{self.prog} --help'.")

    def _default_rule(self) -> str:
        positionals = [a for a in self._actions if not a.option_strings
                       and not isinstance(a, argparse._SubParsersAction)]
        if any(a.nargs in ("+", argparse.REMAINDER) for a in positionals):
            return "at least 1 argument"
        count = sum(1 for a in positionals if a.nargs not in ("?", "*"))
        return f"exactly {count} argument{'s' if count != 1 else ''}"


# The modules whose COMMANDS are skiff's top-level commands, in the order help lists them.
_GROUPS = ("containers", "images", "registry", "system", "networks", "volumes")
# docker's management commands: (name, help, module, the module's table of them).
_MANAGEMENT = (
    ("container", "Manage containers", "containers", "MANAGEMENT"),
    ("image", "Manage images", "images", "MANAGEMENT"),
    ("system", "Manage Skiff", "system", "MANAGEMENT"),
    ("builder", "Manage builds", "images", "BUILDER"),
    ("network", "Manage networks", "networks", "MANAGEMENT"),
    ("volume", "Manage volumes", "volumes", "MANAGEMENT"),
    ("compose", "Define and run multi-container applications", "compose", "MANAGEMENT"),
)


def _table(module: str, name: str = "COMMANDS") -> Sequence[Command | CommandRef]:
    table: Sequence[Command | CommandRef] = getattr(
        importlib.import_module(f"app.cli.{module}"), name)
    return table


def _plain(first: str | None) -> list[Command | CommandRef]:
    """The top-level commands; for a command word, only that command. The group
    tables are imported in order until one names it (``skiff ps``: only the
    containers table; each table costs a few ms of imports)."""
    if first is None:
        return [c for module in _GROUPS for c in _table(module)]
    for module in _GROUPS:
        found = [c for c in _table(module) if _named(c, first)]
        if found:
            return found
    return []


def _add(sub: Any, entry: Command | CommandRef, prog_prefix: str) -> None:
    command = entry.load() if isinstance(entry, CommandRef) else entry
    prog = f"{prog_prefix} {command.name}"
    parser = sub.add_parser(
        command.name, help=command.help, aliases=list(command.aliases),
        description=command.help, prog=prog,
        usage=f"{prog} [OPTIONS] {command.usage_args}".rstrip(),
        add_help=not command.hide_help_short)
    if command.hide_help_short:
        parser.add_argument("--help", action="help", help="Print usage")
    command.build(parser)
    parser.set_defaults(_command=command, _prog=prog)


def _named(command: Command | CommandRef, word: str | None) -> bool:
    return word is not None and (word == command.name or word in command.aliases)


def _listed(sub: Any, entry: Command | CommandRef) -> None:
    """A command as ``skiff --help`` lists it: its name and help line, without its
    flags (nor, for a CommandRef, its module)."""
    sub.add_parser(entry.name, help=entry.help, aliases=list(entry.aliases))


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (given the command line) just the part it needs.

    Building all ~80 sub-parsers costs more than running a quick command does, so
    with ``argv`` only the named command's parser is built; with no command (or an
    unknown one, for docker's "is not a skiff command" error) the commands are
    listed, their flags and modules left out: ``skiff --help`` imported every
    command's module (~860 M instructions, ~220 ms).
    """
    parser = _Parser(prog=PROG, description="Skiff: run and manage containers with "
                     "Skiff's own engine. Commands, flags and output follow docker's.")
    parser.add_argument("-v", "--version", action="store_true",
                        help="Print version information and quit")
    if argv and set(argv) <= {"-v", "--version"}:
        return parser  # what scripts ask first: no command's module nor parser (~90 ms)
    words = [a for a in argv or () if not a.startswith("-")]
    first = words[0] if words else None
    second = words[1] if len(words) > 1 else None
    management = [m for m in _MANAGEMENT if first is None or m[0] == first]
    plain = _plain(first) if first is None or not management else []
    if argv is not None and not management and not plain:
        first = second = None  # an unknown command: the list, as for no command
        management, plain = list(_MANAGEMENT), _plain(None)
    listing = argv is not None and first is None
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text, module, table in management:
        group = sub.add_parser(name, help=help_text, description=help_text,
                               prog=f"{PROG} {name}")
        group.set_defaults(_group_parser=group)
        if listing:
            continue
        if name == "compose":  # its flags come before its command: compose -f x.yaml up
            from app.cli.compose import add_project_flags

            add_project_flags(group)
        group_sub = group.add_subparsers(dest="subcommand", metavar="COMMAND",
                                         parser_class=_Parser)
        commands = _table(module, table)
        wanted = [c for c in commands if _named(c, second)] or commands
        for command in wanted:
            _add(group_sub, command, f"{PROG} {name}")
    for command in plain:
        if listing:
            _listed(sub, command)
        else:
            _add(sub, command, PROG)
    return parser


async def _with_engine(command: Command, ctx: Context) -> int:
    from engine import Engine

    async with Engine() as engine:
        ctx.opened = engine
        result = command.run(ctx)
        return result if isinstance(result, int) else await result


def _execute(command: Command, ctx: Context, collect: bool) -> int:
    """Run one command. A command that needs no engine may be a plain function:
    then no event loop is made, and asyncio (~10 ms of imports, a third of a
    read-only command's start-up) is never imported. ``collect``: turn the
    garbage collector back on for a coroutine (it may run for long)."""
    if not command.needs_engine:
        result = command.run(ctx)
        if isinstance(result, int):
            return result
    else:
        result = _with_engine(command, ctx)
    if collect:
        gc.freeze()  # what the start made: scanned by the collector's next passes for nothing
        gc.enable()
    import asyncio

    return asyncio.run(result)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skiff`` console script; returns the exit status.

    A command starts by making tens of thousands of objects (modules, classes,
    parsers) of which none is garbage: the cyclic garbage collector, scanning them
    again and again, was ~7 % of a read-only command's CPU. It is off until the
    command runs a coroutine (which may run for long), and on again on return.
    Without ``argv`` (the console script, ``python -m app.cli``) the process ends
    with the command: what it made is frozen, out of the collection that ends
    the interpreter (~12 ms of a read-only command's CPU, spent finding nothing).
    """
    collect = gc.isenabled()
    gc.disable()
    try:
        return _main(argv, collect)
    finally:
        if collect:
            gc.enable()
        if argv is None:
            gc.freeze()


def _main(argv: Sequence[str] | None, collect: bool) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args, extras = parser.parse_known_args(argv)
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n" if exc.status == 125 else f"{exc}\n")
        return exc.status
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        if args.version:
            from app.cli.system import version_line

            sys.stdout.write(version_line() + "\n")
            return 0
        group = getattr(args, "_group_parser", None)
        (group or parser).print_help()
        return 0
    prog: str = args._prog
    if extras:
        flag = next((e for e in extras if e.startswith("-")), extras[0])
        what = "unknown flag" if flag.startswith("-") else "unexpected argument"
        sys.stderr.write(f"{PROG}: {what}: {flag}\nSee '{prog} --help'.\n")
        return 125 if flag.startswith("-") else 1
    ctx = Context(args=args, prog=prog)
    # Ctrl-C stops a command even when a shell started it with SIGINT ignored
    # (`cmd &`, nohup), as docker's does.
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    try:
        if command.precheck is not None:
            command.precheck(ctx)  # flag errors before the engine is even opened
        status = _execute(command, ctx, collect)
        return status or ctx.status
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _failed(exc, command, ctx)


def _failed(exc: Exception, command: Command, ctx: Context) -> int:
    """One line for the user (no traceback for their mistakes) and docker's exit status.

    The error classes are imported here, when something failed: a command that
    succeeds never loads sqlite3 or the template engine for them.
    """
    import sqlite3

    from app.cli.templatefunctions import TemplateError
    from engine import ContainerStartError, SkiffError, engine_root, is_disk_full

    prog = ctx.prog
    if isinstance(exc, UsageError):
        ctx.error(f"{PROG}: {exc}\nSee '{prog} --help'." if exc.status == 125 else str(exc))
        return exc.status
    if isinstance(exc, TemplateError):
        ctx.error(f"{PROG}: {exc}")
        return 1
    if isinstance(exc, SkiffError):
        message = daemon_message(exc)
        ctx.error(f"{PROG}: {message}" if command.prefix_errors else message)
        if isinstance(exc, ContainerStartError):
            return exc.exit_code  # 126: cannot invoke, 127: not found
        return command.engine_status
    if isinstance(exc, sqlite3.DatabaseError):  # past the database's header: full, or damaged
        if is_disk_full(exc):
            ctx.error(f"{PROG}: Skiff's database under {engine_root()} cannot be written: the "
                      "disk is full. Free some space (skiff rm, skiff rmi) and try again")
        else:
            ctx.error(f"{PROG}: Skiff's database under {engine_root()} is damaged ({exc}); it "
                      "was left as it is: move skiff.db aside and Skiff starts with an empty one")
        return command.engine_status
    if isinstance(exc, BrokenPipeError):
        # Our reader went away (skiff logs x | head): stop quietly, as a shell tool does.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep exit flush quiet
        except OSError:
            pass
        return 141
    if isinstance(exc, NotImplementedError):
        ctx.error(f"{PROG}: this engine build does not implement {command.name!r} yet")
        return command.engine_status
    if isinstance(exc, OSError):
        ctx.error(f"Error: {exc.strerror or exc}"
                  + (f": {exc.filename}" if exc.filename else ""))
        return 1
    # A bug, not a user mistake: say so with the details to report.
    import traceback

    ctx.error(f"{PROG}: internal error, please report it:\n"
              + "".join(traceback.format_exception(exc)))
    return 1
