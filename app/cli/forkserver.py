"""A user's ``skiff`` with everything imported, forking a child per command.

The server imports what the commands typed most need, listens on its socket
(app/cli/launcher.py is the client) within ~0.1 s, and imports every other
command's modules and the engine's between commands. For each command it
forks: the child takes the client's standard streams, working directory, umask,
environment and arguments, runs ``app.cli.main.main`` and exits with its status,
which the server, reaping it, sends back. A child starts in ~1 ms with its
modules already there, where a fresh interpreter spends ~45 ms importing them.

What makes forking safe here: the server has no threads, no event loop, no open
database and no cached answer that depends on the environment (the preload only
imports; tests/app/cli/test_forkserver.py checks no cache was filled). Before
each fork it checks that its modules' files did not change since it imported
them; if they did it answers "stale" (the client runs the command itself) and
shuts down, so a new copy of Skiff is never run with the old code's modules.

It answers only its own user (each peer's uid is checked; the socket is 0600 in
a 0700 directory), lingers as long as the helper does after its last command
(SKIFF_HELPER_IDLE) and goes when its socket is removed or replaced.
"""

from __future__ import annotations

import fcntl
import gc
import importlib
import os
import pkgutil
import select
import signal
import socket
import stat
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from app.cli.launcher import PROTOCOL, STALE, end, idle_seconds

__all__ = ["preload", "preload_first", "rest", "serve"]

_CODE = Path(__file__).resolve().parents[2]
_MAX_REQUEST = 4 << 20
_SO_PEERCRED = struct.Struct("3i")
_NOT_PRELOADED = ("engine.helper", "app.cli.__main__")


def _private_folder(folder: Path) -> bool:
    """Make (or accept) the socket's folder: ours, a real directory, writable by us alone."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = folder.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(found.st_mode) and found.st_uid == os.geteuid()
            and not found.st_mode & 0o022)


#: What the commands typed most import, and the reader's rehearsal: ~0.1 s, after
#: which the server listens (where the whole preload took ~0.8-1.4 s, during which
#: the next commands each ran on their own, beside the server's imports, at 2-4x
#: their served time). The rest is imported between commands.
_FIRST = ("app.cli.main", "app.cli.containers", "app.cli.images", "app.cli.ps",
          "app.cli.inspection", "app.cli.logs", "engine.reader")


def preload_first() -> None:
    """Import what the commands typed most (``ps``, ``images``, ``inspect``, ``logs``)
    need, then let the reader rehearse on an empty store of its own, so what reading
    compiles on first use (the patterns of references, IDs and digests, SQLite's
    set-up) is done here once, not in every child (~1-3 ms of a read command), and
    so is a table's field pattern (app/cli/output.py). Nothing is kept that depends
    on who asks or where."""
    for name in _FIRST:
        importlib.import_module(name)
    from app.cli.output import Formatter
    from engine import Reader

    Reader.rehearse()
    Formatter("table {{.ID}}", {"ID": "CONTAINER ID"}).render([])


def rest() -> Iterator[str]:
    """The names of every other module a command may run, the ones ``run`` needs
    first: the command line's and the engine's, but not the helper's (it runs as
    its own program) nor the window's. Walking a package imports it."""
    import app.cli
    import engine

    yield "app.cli.run"
    for package in (app.cli, engine):
        for found in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not found.name.startswith(_NOT_PRELOADED):
                yield found.name


def preload() -> None:
    """Everything the server imports over its first second, at once (~40 MB)."""
    preload_first()
    for name in rest():
        importlib.import_module(name)
    from engine import compile_checks

    compile_checks()


def _code_files(known: dict[str, int] | None = None) -> dict[str, int]:
    """The mtimes of the files our modules came from (those not ``known`` yet)."""
    files: dict[str, int] = {}
    prefix = f"{_CODE}{os.sep}"
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and path.startswith(prefix) and (known is None or path not in known):
            try:
                files[path] = os.stat(path).st_mtime_ns
            except OSError:
                files[path] = 0
    return files


def _changed(files: dict[str, int]) -> bool:
    for path, mtime in files.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return True
        except OSError:
            return True
    return False


class _Request:
    """One command as the client sent it."""

    def __init__(self, body: bytes, fds: list[int]) -> None:
        fields = body.split(b"\0")
        if len(fields) < 4 or fields[0] != PROTOCOL or len(fds) != 3:
            raise ValueError("not a skiff-cli request")
        self.cwd = fields[1]
        self.umask = int(fields[2])
        count = int(fields[3])
        self.argv = [os.fsdecode(a) for a in fields[4:4 + count]]
        self.environ = dict(f.split(b"=", 1) for f in fields[4 + count:] if b"=" in f)
        self.fds = fds


def _receive(conn: socket.socket) -> _Request:
    conn.settimeout(5)
    data, ancillary, _flags, _address = conn.recvmsg(65536, socket.CMSG_SPACE(3 * 4))
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(int.from_bytes(payload[i:i + 4], sys.byteorder)
                       for i in range(0, len(payload) - len(payload) % 4, 4))
    try:
        if len(data) < 4:
            raise ValueError("a short request")
        size = int.from_bytes(data[:4], "little")
        if size > _MAX_REQUEST:
            raise ValueError("an oversized request")
        body = data[4:]
        while len(body) < size:
            chunk = conn.recv(min(size - len(body), 1 << 20))
            if not chunk:
                raise ValueError("a cut request")
            body += chunk
        return _Request(body, fds)
    except (ValueError, OSError):
        for fd in fds:
            os.close(fd)
        raise


def _run_child(request: _Request, keep_out: list[int]) -> None:
    """In the forked child: become the client's command, run it, exit with its status."""
    status = 1
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in keep_out:
            os.close(fd)
        for target, fd in enumerate(request.fds):
            os.dup2(fd, target)
        for fd in request.fds:
            if fd > 2:
                os.close(fd)
        try:
            os.chdir(request.cwd)
        except OSError:
            pass  # a folder removed under the client: the command sees what it would have
        os.umask(request.umask)
        os.environb.clear()
        os.environb.update(request.environ)
        sys.argv = request.argv
        _new_streams()
        if "random" in sys.modules:
            sys.modules["random"].seed()  # not the server's sequence, which every child shares
        from app.cli.main import main

        status = main(request.argv[1:])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        status = 130
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        end(status)


def _new_streams() -> None:
    """Text streams over the client's fds, buffered as the interpreter would have made them."""
    encoding = sys.stdout.encoding if sys.stdout is not None else "utf-8"

    def text(fd: int, mode: str, errors: str, buffering: int) -> IO[str]:
        return open(fd, mode, encoding=encoding, errors=errors, closefd=False,
                    buffering=buffering)

    streams = {"stdin": text(0, "r", "surrogateescape", -1),
               "stdout": text(1, "w", "surrogateescape", 1 if os.isatty(1) else -1),
               "stderr": text(2, "w", "backslashreplace", 1)}
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


class _Server:
    def __init__(self, address: Path, listener: socket.socket, lock: int,
                 pending: Iterator[str] | None = None) -> None:
        self.address = address
        self.pending = pending
        self.identity = address.stat().st_ino
        self.listener: socket.socket | None = listener
        self.lock = lock
        self.idle = idle_seconds()
        self.files = _code_files()
        self.children: dict[int, socket.socket] = {}
        self.waiting: dict[int, int] = {}  # a client's fd -> its child, to stop it if it goes
        self.last = time.monotonic()
        read, self.wakeup = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wakeup_read = read
        signal.set_wakeup_fd(self.wakeup)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self.close())
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.poll = select.poll()
        self.poll.register(listener.fileno(), select.POLLIN)
        self.poll.register(read, select.POLLIN)

    def close(self) -> None:
        """Take no more commands; the ones running still get their status."""
        if self.listener is None:
            return
        try:
            if self.address.stat().st_ino == self.identity:
                self.address.unlink()
        except OSError:
            pass
        self.poll.unregister(self.listener.fileno())
        self.listener.close()
        self.listener = None
        os.close(self.lock)  # the next server may start now

    def run(self) -> None:
        while self.listener is not None or self.children:
            timeout = max(0.0, self.last + self.idle - time.monotonic())
            if self.pending is not None:
                timeout = 0.0  # a command first, else one more module
            # Every 2 s at least: a removed socket (its world deleted) ends it soon.
            events = self.poll.poll(min(timeout, 2.0) * 1000 if self.listener else None)
            if not events and self.pending is not None:
                self.import_next()
            for fd, _mask in events:
                if self.listener is not None and fd == self.listener.fileno():
                    self.accept()
                elif fd == self.wakeup_read:
                    self.reap()
                elif fd in self.waiting:  # the client went: so does its command
                    self.poll.unregister(fd)
                    try:
                        os.kill(self.waiting.pop(fd), signal.SIGKILL)
                    except OSError:
                        pass
            if (self.listener is not None and not self.children
                    and (time.monotonic() - self.last >= self.idle or not self.still_ours())):
                self.close()

    def import_next(self) -> None:
        """One more module of the preload, between commands; when all are in, freeze
        them as the first ones were. A module that fails to import fails the commands
        that need it, in their own child, not the server."""
        assert self.pending is not None
        try:
            name = next(self.pending, None)
        except Exception:  # a package that cannot be walked: the rest is left to the children
            name = None
        if name is not None:
            try:
                importlib.import_module(name)
            except Exception:
                pass
        if len(os.listdir("/proc/self/task")) != 1:
            self.close()  # an import started a thread: a fork would copy a process missing it
        self.files.update(_code_files(self.files))
        if name is None:
            self.pending = None
            from engine import compile_checks

            compile_checks()
            gc.collect()
            gc.freeze()

    def still_ours(self) -> bool:
        try:
            return self.address.stat().st_ino == self.identity
        except OSError:
            return False

    def accept(self) -> None:
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.last = time.monotonic()
        try:
            uid = _SO_PEERCRED.unpack(conn.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, _SO_PEERCRED.size))[1]
            if uid != os.geteuid():
                conn.close()
                return
            request = _receive(conn)
        except (OSError, ValueError):
            conn.close()
            return
        if _changed(self.files):
            self.answer(conn, STALE)
            for fd in request.fds:
                os.close(fd)
            conn.close()
            self.close()
            return
        keep_out = [self.wakeup, self.wakeup_read, conn.fileno(),
                    *([self.listener.fileno(), self.lock] if self.listener else []),
                    *(c.fileno() for c in self.children.values())]
        pid = os.fork()
        if pid == 0:
            _run_child(request, keep_out)
        for fd in request.fds:
            os.close(fd)
        self.children[pid] = conn
        self.waiting[conn.fileno()] = pid
        self.poll.register(conn.fileno(), select.POLLIN | select.POLLHUP)
        self.answer(conn, pid)

    @staticmethod
    def answer(conn: socket.socket, value: int) -> None:
        try:
            conn.sendall(value.to_bytes(4, "little", signed=True))
        except OSError:
            pass

    def reap(self) -> None:
        try:
            while os.read(self.wakeup_read, 512):
                pass
        except BlockingIOError:
            pass
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            if self.waiting.pop(conn.fileno(), None) is not None:
                self.poll.unregister(conn.fileno())
            self.answer(conn, status)
            conn.close()
            self.last = time.monotonic()


def serve(address: str) -> None:
    """Run a server on ``address`` until it has been idle for SKIFF_HELPER_IDLE seconds;
    return at once if another one holds it or its folder is not private."""
    path = Path(address)
    if idle_seconds() <= 0 or not _private_folder(path.parent):
        return
    lock = os.open(f"{address}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return
    preload_first()
    if len(os.listdir("/proc/self/task")) != 1:
        return  # an import started a thread: a fork would copy a process missing it
    gc.collect()
    gc.freeze()  # what the preload made is never garbage: children need not scan it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        path.unlink(missing_ok=True)
        listener.bind(address)
        os.chmod(address, 0o600)
        listener.listen(64)
    except OSError:
        listener.close()
        os.close(lock)
        return
    os.ftruncate(lock, 0)
    os.write(lock, b"%d\n" % os.getpid())
    _Server(path, listener, lock, rest()).run()
