"""Our terminal joined to a container: ``exec``, ``attach``, and ``run -it``/``start -ai``.

With ``-t`` the process gets a pseudo-terminal; when our stdin is a terminal
too, it is put in raw mode (keys, Ctrl-C included, go to the container) and
window resizes are forwarded. With ``-i`` our stdin is copied in. Without
``-t``, stdout and stderr stay apart. The exit status is the process's.
``-d`` leaves the process running in the background with its output
discarded, as docker does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import stat
import subprocess
import sys
import termios
import tty
from collections.abc import Iterator
from typing import Any

from app.cli.command import Command, Context, daemon_message
from app.cli.options import UsageError, parse_env, parse_env_file
from engine import SkiffError

__all__ = ["ATTACH", "EXEC", "cmd_attach", "cmd_exec", "interact"]


@contextlib.contextmanager
def _raw_terminal(fd: int) -> Iterator[None]:
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _terminal_size(fd: int) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return 0, 0
    return size.lines, size.columns


async def _pump_stdin(session: Any, fd: int) -> None:
    """Copy our stdin into the session until EOF, then end its input."""
    loop = asyncio.get_running_loop()
    # A regular file cannot be polled (and never blocks): read it in a thread.
    regular = stat.S_ISREG(os.fstat(fd).st_mode)
    ready: asyncio.Queue[None] = asyncio.Queue()
    was_blocking = os.get_blocking(fd)
    if not regular:
        os.set_blocking(fd, False)  # the file description is shared: restored below
        loop.add_reader(fd, ready.put_nowait, None)

    async def read() -> bytes:
        if regular:
            return await loop.run_in_executor(None, os.read, fd, 65536)
        while True:
            await ready.get()
            try:
                return os.read(fd, 65536)
            except BlockingIOError:
                continue
    try:
        while True:
            data = await read()
            if not data:
                break
            await session.write(data)
    finally:
        if not regular:
            with contextlib.suppress(Exception):
                loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                os.set_blocking(fd, was_blocking)
    if session.tty:
        await session.write(b"\x04")  # end of input on a terminal is Ctrl-D
    else:
        session.close_stdin()


async def _pump_output(ctx: Context, session: Any) -> None:
    out, err = ctx.out_bytes, ctx.err_bytes
    while True:
        stream, data = await session.read()
        if not stream:
            return
        sink = err if stream == "stderr" else out
        sink.write(data)
        sink.flush()


READY_FD = "SKIFF_EXEC_READY_FD"


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


async def _detach(ctx: Context) -> int:
    """exec -d: run this exec again in the background, its output discarded.

    The background copy reports through a pipe whether the process started (or
    why not), so ``-d`` fails as clearly as a foreground exec does.
    """
    args = ctx.args
    argv = [sys.executable, "-m", "app.cli", "exec"]
    if args.tty:
        argv.append("-t")
    for item in args.env:
        argv += ["-e", item]
    for path in args.env_file:
        argv += ["--env-file", path]
    if args.user:
        argv += ["-u", args.user]
    if args.workdir:
        argv += ["-w", args.workdir]
    argv += [args.container, *args.command]
    read_end, write_end = os.pipe()
    try:
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, pass_fds=(write_end,),
                         env={**ctx.environ, READY_FD: str(write_end)})
    finally:
        os.close(write_end)
    reply = await asyncio.get_running_loop().run_in_executor(None, _read_all, read_end)
    code, _, message = reply.decode(errors="replace").partition("\t")
    if code.strip() == "0":
        return 0
    ctx.error(message.strip() or "Error: the background exec did not start")
    return int(code) if code.strip().isdigit() else 1


def _report_ready(ctx: Context, code: int, message: str = "") -> None:
    fd_text = ctx.environ.get(READY_FD, "")
    if not fd_text.isdigit():
        return
    with contextlib.suppress(OSError):
        os.write(int(fd_text), f"{code}\t{message}".encode())
        os.close(int(fd_text))


async def cmd_exec(ctx: Context) -> int:
    args = ctx.args
    if not args.command:
        raise UsageError('"skiff exec" requires at least 2 arguments.', 1)
    env: list[str] = []
    for path in args.env_file:
        env.extend(parse_env_file(path, ctx.environ))
    env.extend(parse_env(args.env, ctx.environ))
    if args.detach:
        return await _detach(ctx)
    stdin_fd = ctx.stdin.fileno()
    stdin_tty = os.isatty(stdin_fd)
    rows, cols = _terminal_size(stdin_fd if stdin_tty else ctx.out.fileno())
    try:
        session = await ctx.engine.containers.exec(args.container, list(args.command), tty=args.tty,
                                        env=env, user=args.user, workdir=args.workdir,
                                        rows=rows, cols=cols)
    except SkiffError as exc:
        _report_ready(ctx, getattr(exc, "exit_code", 1), daemon_message(exc))
        raise
    _report_ready(ctx, 0)
    code = await interact(ctx, session, interactive=args.interactive, tty=args.tty)
    return 0 if code is None else code


async def interact(ctx: Context, session: Any, *, interactive: bool, tty: bool) -> int | None:
    """Join our terminal to the session until its output ends; its exit code.

    With a TTY and our stdin a terminal, ours goes raw (keys, Ctrl-C included, go
    to the container) and window resizes are forwarded. With ``interactive`` our
    stdin is copied in. None when the session could not tell the exit code.
    """
    loop = asyncio.get_running_loop()
    stdin_fd = ctx.stdin.fileno()
    stdin_tty = os.isatty(stdin_fd)
    raw = tty and interactive and stdin_tty
    if not interactive and not session.tty:
        session.close_stdin()
    feeder = asyncio.create_task(_pump_stdin(session, stdin_fd)) if interactive else None
    resized = False
    if tty and stdin_tty:
        def resize() -> None:
            size = _terminal_size(stdin_fd)
            if size[0]:
                session.resize(*size)
        resize()
        loop.add_signal_handler(signal.SIGWINCH, resize)
        resized = True
    try:
        with _raw_terminal(stdin_fd) if raw else contextlib.nullcontext():
            await _pump_output(ctx, session)
            code = await session.wait()
    finally:
        if feeder is not None:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feeder
        if resized:
            loop.remove_signal_handler(signal.SIGWINCH)
        session.close()
    return None if code is None else int(code)


async def cmd_attach(ctx: Context) -> int:
    """docker attach: our terminal joined to the container's main process."""
    args = ctx.args
    container = await ctx.engine.containers.get(args.container)
    session = await ctx.engine.containers.attach(container.id)
    code = await interact(ctx, session, interactive=not args.no_stdin,
                          tty=container.config.tty)
    return code if code is not None else await ctx.engine.containers.wait(container.id)


def _b_attach(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
    p.add_argument("--sig-proxy", default="true", help="Proxy all received signals to the "
                   "process (accepted for compatibility)")
    p.add_argument("container", metavar="CONTAINER")


def _b_exec(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--detach", action="store_true",
                   help="Detached mode: run command in the background")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="Keep STDIN open even if not attached")
    p.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    p.add_argument("-e", "--env", action="append", default=[], help="Set environment variables")
    p.add_argument("--env-file", action="append", default=[],
                   help="Read in a file of environment variables")
    p.add_argument("-u", "--user", default="", help="Username or UID")
    p.add_argument("-w", "--workdir", default="", help="Working directory inside the container")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")


EXEC = Command("exec", "Execute a command in a running container", _b_exec, cmd_exec,
               "CONTAINER COMMAND [ARG...]")
ATTACH = Command("attach", "Attach local standard input, output, and error streams to a "
                 "running container", _b_attach, cmd_attach, "CONTAINER")
