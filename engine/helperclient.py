"""The engine's end of the helper protocol.

The helper starts on first use: directly when we are root, through pkexec
otherwise. Requests are framed on a socketpair whose other end is the
helper's standard input; a reader thread resolves the waiting futures on
the event loop. A call whose task is cancelled cancels its request in the
helper too. Closing the client (or dying) hangs up, which cancels what it still
had running, and the helper exits; containers are unaffected.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import (
    ContainerStartError,
    HelperError,
    HelperLost,
    ProtocolError,
    from_kind,
)
from engine.helperspawn import helper_command, idle_seconds, lingering_socket, spawn, take
from engine.wire import protocol
from engine.wire.requests import Verb, WithFds

if TYPE_CHECKING:
    from engine import polkit

__all__ = ["HelperClient", "plain_refusal"]


class HelperClient:
    def __init__(self, root: Path, cgroup_parent: str) -> None:
        self.root = root
        self.cgroup_parent = cgroup_parent
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._send_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._helper_pid: int | None = None

    async def _ensure(self) -> socket.socket:
        async with self._lock:
            if self._sock is not None:
                return self._sock
            self._loop = asyncio.get_running_loop()
            ours = await self._connect_lingering()
            if ours is None:
                ours = await self._spawn()
            self._sock = ours
            threading.Thread(target=self._read_replies, args=(ours,), daemon=True,
                             name="skiff-helper-reader").start()
            return ours

    def starts_unasked(self) -> bool:
        """Whether reaching the helper asks nobody for a password: we are root, or a
        helper is there for us (pkexec may ask otherwise)."""
        return os.geteuid() == 0 or self._sock is not None or self._lingering_path().exists()

    def _lingering_path(self) -> Path:
        return lingering_socket(self.root)

    async def _connect_lingering(self) -> socket.socket | None:
        """The helper a recent command left running for us, if there is one.

        Connected and greeted on the event loop: a thread of the loop's executor for
        it cost every command that thread's start and two hand-overs between threads."""
        path = self._lingering_path()
        if not path.exists():
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            reply = await asyncio.wait_for(self._greet(sock, str(path)), 5)
            sock.setblocking(True)
        except (OSError, ProtocolError, TimeoutError):
            sock.close()
            return None
        if reply is None or reply.get("hello") != protocol.VERSION:
            sock.close()
            return None  # it was on its way out: start our own
        self._adopt(reply)
        return sock

    async def _spawn(self) -> socket.socket:
        assert self._loop is not None
        command = helper_command(self.root, self.cgroup_parent)
        early = take(command)  # a cold pull's, started by the launcher (engine/helperspawn.py)
        if early is not None:
            ours, self._process = early
        else:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._process = spawn(command, theirs, through_pkexec=os.geteuid() != 0)
            except OSError as exc:
                ours.close()
                raise HelperError(f"cannot start the privileged helper: {exc}") from None
            finally:
                theirs.close()
        process = self._process
        output = None
        if process.stderr is not None:  # through pkexec
            from engine import polkit

            output = polkit.ErrorOutput(process.stderr)
        try:
            reply = await self._loop.run_in_executor(None, self._handshake, ours)
        except (OSError, ProtocolError) as exc:
            reply, failure = None, str(exc)
        except asyncio.CancelledError:
            # Hang up: the handshake's read ends, and so does the helper, which would
            # otherwise wait for requests until our close gave up on it and killed it.
            ours.shutdown(socket.SHUT_RDWR)
            raise
        else:
            failure = "it exited"
        if reply is None or reply.get("hello") != protocol.VERSION:
            ours.close()
            if output is not None and reply is None:
                raise await self._loop.run_in_executor(None, self._why, process, output)
            detail = (reply or {}).get("error", {}).get("message", failure)
            raise HelperError(f"the privileged helper refused to talk: {detail}")
        if output is not None:
            output.started()
        self._adopt(reply)
        return ours

    def _why(self, process: subprocess.Popen[bytes], output: polkit.ErrorOutput) -> HelperError:
        """What pkexec (or the helper it started) said before hanging up."""
        try:
            status: int | None = process.wait(10)
        except subprocess.TimeoutExpired:
            status = None
        from engine import polkit

        return polkit.explain(status, output.text(), self._action())

    @staticmethod
    def _action() -> str:
        from engine import installation

        found = installation.find()
        return found.polkit_action if found is not None else "org.skiff.helper"

    def _adopt(self, hello: dict[str, Any]) -> None:
        """The helper decides where it keeps things: look where it says."""
        root, parent = hello.get("root"), hello.get("cgroup_parent")
        if isinstance(root, str) and root:
            self.root = Path(root)
        if isinstance(parent, str) and parent:
            self.cgroup_parent = parent

    async def _greet(self, sock: socket.socket, path: str) -> dict[str, Any] | None:
        """``_handshake`` on a non-blocking socket, waiting on the loop, not a thread."""
        assert self._loop is not None
        while True:
            try:
                sock.connect(path)
                break
            except BlockingIOError:
                # EAGAIN: the helper's backlog is full (many commands at once) and has
                # no room yet. asyncio's sock_connect took this for connected.
                await asyncio.sleep(0.002)
        await self._loop.sock_sendall(sock, protocol.encode_frame({"hello": protocol.VERSION}))
        self._reader = protocol.FrameReader(sock)
        while True:
            readable: asyncio.Future[None] = self._loop.create_future()
            self._loop.add_reader(sock, _settle, readable)
            try:
                await readable
            finally:
                self._loop.remove_reader(sock)
            try:
                return self._hello(self._reader.read())
            except BlockingIOError:
                continue  # a part of the reply so far (the reader keeps it)

    def _handshake(self, sock: socket.socket) -> dict[str, Any] | None:
        protocol.send_frame(sock, {"hello": protocol.VERSION})
        self._reader = protocol.FrameReader(sock)
        return self._hello(self._reader.read())

    def _hello(self, item: tuple[dict[str, Any], list[int]] | None) -> dict[str, Any] | None:
        if item is None:
            return None
        pid = item[0].get("pid")
        self._helper_pid = pid if isinstance(pid, int) else None
        return item[0]

    def _read_replies(self, sock: socket.socket) -> None:
        error: Exception = HelperLost("the privileged helper exited")
        try:
            while True:
                item = self._reader.read()
                if item is None:
                    break
                message, fds = item
                self._deliver(message, fds)
        except (OSError, ProtocolError) as exc:
            error = HelperLost(f"lost the privileged helper: {exc}")
        self._post(self._fail_all, error)

    def _deliver(self, message: dict[str, Any], fds: list[int]) -> None:
        if not self._post(self._resolve, message, fds):
            for fd in fds:
                os.close(fd)

    def _post(self, callback: Callable[..., None], *args: Any) -> bool:
        """Run ``callback`` in the engine's loop; False if that loop is closed. It may
        close as this thread reads the helper's last words (a command ending as its
        connection goes): then nobody waits for them, and the thread ends quietly."""
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # Event loop is closed
            if not self._loop.is_closed():
                raise
            return False
        return True

    def _resolve(self, message: dict[str, Any], fds: list[int]) -> None:
        future = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
        if future is None or future.done() or message.get("error"):
            for fd in fds:
                os.close(fd)
        if future is None or future.done():
            return
        error = message.get("error")
        if error:
            kind, text = str(error.get("kind", "helper")), str(error.get("message", ""))
            if kind == ContainerStartError.kind:
                future.set_exception(ContainerStartError(text, int(error.get("exit_code", 126))))
            elif kind == ProtocolError.kind:
                future.set_exception(ProtocolError(plain_refusal(text)))
            else:
                future.set_exception(from_kind(kind, text))
        elif fds:
            future.set_result(WithFds(message.get("result"), fds))
        else:
            future.set_result(message.get("result"))

    def _fail_all(self, error: Exception) -> None:
        self._sock = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    async def call(self, verb: Verb, args: dict[str, Any] | None = None,
                   fds: list[int] | None = None) -> Any:
        sock = await self._ensure()
        request_id = next(self._ids)
        assert self._loop is not None
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending[request_id] = future
        message = {"id": request_id, "verb": verb, "args": args or {}}
        try:
            with self._send_lock:
                protocol.send_frame(sock, message, fds)
        except OSError as exc:
            self._pending.pop(request_id, None)
            raise HelperLost(f"lost the privileged helper: {exc}") from None
        try:
            return await future
        except asyncio.CancelledError:
            if self._pending.pop(request_id, None) is not None:
                self._cancel(sock, request_id)  # so the helper stops working for nobody
            raise

    def _cancel(self, sock: socket.socket, request_id: int) -> None:
        """Ask the helper to stop a request; its answer, and the request's, are dropped."""
        message = {"id": next(self._ids), "verb": "cancel", "args": {"request": request_id}}
        try:
            with self._send_lock:
                protocol.send_frame(sock, message)
        except OSError:
            pass  # the helper is gone: nothing runs for us any more

    async def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        process, self._process = self._process, None
        if process is not None and idle_seconds() == 0:
            loop = asyncio.get_running_loop()
            try:
                await asyncio.wait_for(loop.run_in_executor(None, process.wait), 10)
            except TimeoutError:
                process.kill()
        elif process is not None:
            # A lingering helper outlives us; reap it in a thread if it ends first.
            threading.Thread(target=process.wait, daemon=True).start()

    @property
    def pid(self) -> int | None:
        """The helper's pid (also for one we connected to, from its hello)."""
        return self._helper_pid


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


#: The words a user knows for the protocol's field names (engine/wire/protocol.py).
_FIELD_WORDS = {
    "args": "command", "env": "environment", "cwd": "working directory",
    "memory": "memory limit", "nano_cpus": "CPU limit", "pids_limit": "pids limit",
    "network_mode": "network", "binds": "mounts", "source": "mount source",
    "target": "mount target", "restart_max": "restart count", "aliases": "network alias",
    "exposed": "exposed port", "layers": "image layers", "diff_id": "layer",
}


def plain_refusal(text: str) -> str:
    """A protocol refusal ("container_create.spec.memory: must be at least 4194304")
    in words, without the schema's path: what was refused and why.

    The engine checks what users type before the helper does (engine/containers/
    checks.py); this is for what slips through, so it reads as a refusal, not a path.
    """
    where, sep, reason = text.partition(": ")
    if not sep or ("." not in where and "[" not in where):
        return f"the privileged helper refused the request: {text}"
    field = where.rsplit(".", 1)[-1].split("[", 1)[0]
    word = _FIELD_WORDS.get(field, field.replace("_", " "))
    return f"the privileged helper refused the {word}: it {reason}" if reason.startswith(
        "must") else f"the privileged helper refused the {word}: {reason}"
