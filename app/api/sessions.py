"""Attach and exec sessions the server holds between requests.

A client attaches before it starts (``docker run`` does: create, attach, wait,
start), so an attach to a created container waits here as *pending*; the
start that follows starts the container with its output in our hands from the
first byte and gives the session to the waiting attach. ``resize`` reaches the
sessions open on a container, and exec instances live here from create to
inspect, as dockerd keeps them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.api.streams import Hijacked, frame

__all__ = ["DEFAULT_DETACH_KEYS", "DetachScanner", "ExecInstance", "Sessions", "Stream",
           "parse_detach_keys", "pump"]


class Stream(Protocol):
    """What AttachSession and ExecSession share."""

    tty: bool

    async def read(self) -> tuple[str, bytes]: ...
    async def write(self, data: bytes) -> None: ...
    def close_stdin(self) -> None: ...
    def resize(self, rows: int, cols: int) -> None: ...
    def close(self) -> None: ...


@dataclass
class ExecInstance:
    id: str
    container_id: str
    cmd: list[str]
    tty: bool
    stdin: bool
    stdout: bool
    stderr: bool
    env: list[str]
    user: str
    workdir: str
    detach_keys: str = ""
    console: tuple[int, int] = (0, 0)
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    session: Any = None
    started: bool = False
    failure: str = ""  # why the command could not be run

    def inspect(self) -> dict[str, Any]:
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {"tty": self.tty, "entrypoint": self.cmd[0] if self.cmd else "",
                              "arguments": self.cmd[1:], "privileged": False,
                              "user": self.user},
            "OpenStdin": self.stdin,
            "OpenStderr": self.stderr,
            "OpenStdout": self.stdout,
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.detach_keys,
            "Pid": self.pid,
        }


@dataclass
class Sessions:
    pending: dict[str, list[asyncio.Future[Stream]]] = field(default_factory=dict)
    active: dict[str, set[Stream]] = field(default_factory=dict)
    execs: dict[str, ExecInstance] = field(default_factory=dict)

    # -- attach ------------------------------------------------------------------
    @contextlib.contextmanager
    def waiting(self, container_id: str) -> Iterator[asyncio.Future[Stream]]:
        """A pending attach: the future gets the session of the start to come."""
        future: asyncio.Future[Stream] = asyncio.get_running_loop().create_future()
        self.pending.setdefault(container_id, []).append(future)
        try:
            yield future
        finally:
            waiters = self.pending.get(container_id, [])
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self.pending.pop(container_id, None)

    def take_pending(self, container_id: str) -> asyncio.Future[Stream] | None:
        """The oldest attach waiting for this container's start, if any."""
        for future in self.pending.get(container_id, []):
            if not future.done():
                return future
        return None

    @contextlib.contextmanager
    def holding(self, container_id: str, session: Stream) -> Iterator[Stream]:
        self.active.setdefault(container_id, set()).add(session)
        try:
            yield session
        finally:
            held = self.active.get(container_id, set())
            held.discard(session)
            if not held:
                self.active.pop(container_id, None)
            session.close()

    def resize(self, container_id: str, rows: int, cols: int) -> bool:
        held = self.active.get(container_id)
        for session in held or ():
            session.resize(rows, cols)
        return bool(held)

    # -- exec --------------------------------------------------------------------
    def new_exec(self, exec_id: str, **fields: Any) -> ExecInstance:
        """An exec instance under the ID the engine gave it (its events carry it)."""
        instance = ExecInstance(id=exec_id, **fields)
        self.execs[instance.id] = instance
        return instance

    def forget_container(self, container_id: str) -> None:
        """A removed container's exec instances go with it, as in dockerd (one still
        streaming ends with its processes, and goes when the list is next trimmed)."""
        for instance in [e for e in self.execs.values()
                         if e.container_id == container_id and not e.running]:
            del self.execs[instance.id]

    def close_all(self) -> None:
        for held in list(self.active.values()):
            for session in list(held):
                session.close()
        for instance in self.execs.values():
            if instance.session is not None:
                instance.session.close()


def parse_detach_keys(text: str) -> bytes:
    """Docker's ``detachKeys``: comma-separated ``ctrl-<x>`` or single characters."""
    keys = bytearray()
    for part in text.split(","):
        if len(part) == 1:
            keys.append(ord(part))
            continue
        if part.startswith("ctrl-") and len(part) == 6:
            char = part[5].lower()
            if "a" <= char <= "z":
                keys.append(ord(char) - ord("a") + 1)
                continue
            if char in "@[\\]^_":
                keys.append(ord(char) - 64)
                continue
        raise ValueError(f"Invalid detach keys ({text}) provided")
    return bytes(keys)


DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p, ctrl-q


class DetachScanner:
    """Finds the detach sequence in a client's input, holding back what may be its start."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = bytearray()

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(the bytes to pass on, whether the sequence was typed)."""
        out = bytearray()
        for byte in data:
            if self.keys and byte == self.keys[len(self.held)]:
                self.held.append(byte)
                if len(self.held) == len(self.keys):
                    return bytes(out), True
                continue
            out += self.held
            self.held.clear()
            if self.keys and byte == self.keys[0]:
                self.held.append(byte)
            else:
                out.append(byte)
        return bytes(out), False


async def pump(session: Stream, stream: Hijacked, *, stdin: bool, stdout: bool = True,
               stderr: bool = True, detach_keys: bytes = b"", raw: bool | None = None) -> bool:
    """Carry bytes both ways until the session's output ends (True) or the client
    leaves or detaches with ``detach_keys`` (False, or ConnectionError from a write
    to a client that left).

    The client's half-close ends the session's stdin and nothing else; output is
    framed (stdout 1, stderr 2) unless the session has a TTY (or ``raw`` says
    otherwise: an exec made with a TTY and started without one is framed, as stdout).
    """
    raw = session.tty if raw is None else raw
    scanner = DetachScanner(detach_keys)

    async def feed() -> bool:
        while data := await stream.read():
            data, detached = scanner.feed(data)
            if data:
                await session.write(data)
            if detached:
                return True
        if not stream.lost.is_set():
            session.close_stdin()
        return False

    async def output() -> None:
        while True:
            kind, data = await session.read()
            if not kind:
                return
            if (kind == "stdout" and not stdout) or (kind == "stderr" and not stderr):
                continue
            await stream.write(data if raw else frame(kind, data))

    printing: asyncio.Future[Any] = asyncio.ensure_future(output())
    tasks: set[asyncio.Future[Any]] = {printing, asyncio.ensure_future(stream.lost.wait())}
    if stdin:
        tasks.add(asyncio.ensure_future(feed()))
    try:
        while True:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if printing in done:
                printing.result()  # a write to a client that left raises here
                return True
            for task in done:
                if task is not printing and task.result() is not False:
                    return False  # the client left, or typed the detach keys
                tasks.discard(task)  # stdin ended: the output goes on
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
