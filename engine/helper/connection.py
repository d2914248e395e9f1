"""One client's connection to the helper: read, bound, dispatch, cancel.

Each connection has its own workers and its own budget, so what one client sends
cannot hold up another client's requests, nor grow the helper without bound:

- at most ``WORKERS`` of its requests run at once; the others wait their turn;
- with ``IN_FLIGHT`` requests, ``IN_FLIGHT_BYTES`` of frames or ``IN_FLIGHT_FDS``
  descriptors in flight (running, waiting, or replying), the helper stops reading
  the connection until one ends: the socket buffer, then the client, wait;
- cheap verbs (``QUICK``) are answered by the reader at once, never behind slow ones;
- ``cancel`` cancels one of its requests, and a hang-up all of them: work that can
  wait long (unpacking a layer) stops at once and cleans up; the connection ends
  when its last request has.

Every frame is validated (``protocol.parse_request``) before anything is queued.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from engine.errors import Cancelled, ProtocolError, SkiffError
from engine.helper.cancel import Cancellation
from engine.wire import protocol
from engine.wire.requests import WithFds

__all__ = ["IN_FLIGHT", "QUICK", "WORKERS", "Connection", "Dispatch", "close_all"]

# The verb, its checked arguments, the descriptors that came with it (a verb keeps
# one by taking it out of the list; the rest are closed), and its cancellation.
Dispatch = Callable[[str, dict[str, Any], list[int], Cancellation], Any]

QUICK = frozenset({"ping", "layer_exists", "cancel"})
WORKERS = 8
IN_FLIGHT = 32
IN_FLIGHT_BYTES = 4 << 20
IN_FLIGHT_FDS = 32

_HANG_UP = select.POLLRDHUP | select.POLLHUP | select.POLLERR


@dataclass
class _Request:
    cancel: Cancellation
    size: int
    fds: int


class Connection:
    """Serves one socket (after the hello) until the client hangs up; see ``run()``."""

    def __init__(self, sock: socket.socket, reader: protocol.FrameReader,
                 dispatch: Dispatch) -> None:
        self.sock = sock
        self.reader = reader
        self._dispatch = dispatch
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._requests: dict[int, _Request] = {}  # not answered yet: can be cancelled
        self._count = 0  # in flight: from accepted until its reply is sent
        self._bytes = 0
        self._fds = 0
        self._reader_waits = False
        self._room = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="verb")

    def run(self) -> None:
        """Read and answer requests until the client hangs up or breaks the framing;
        then cancel what is still in flight and wait until it has ended."""
        try:
            while self._wait_for_room():
                try:
                    item = self.reader.read()
                except protocol.BadMessage as exc:
                    self.send(_error(None, exc))  # a whole frame: the next one is fine
                    continue
                except ProtocolError as exc:
                    self.send(_error(None, exc))
                    break  # the stream is out of step: nothing after this can be trusted
                except OSError:
                    break
                if item is None:
                    break
                self._accept(*item)
        finally:
            self._hang_up()

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        try:
            data = protocol.encode_frame(message)
        except ProtocolError as exc:  # a reply too large for one frame
            message = _error(message.get("id"), ProtocolError(f"the reply is too large: {exc}"))
            data, fds = protocol.encode_frame(message), None
        with self._send_lock:
            try:
                if fds:
                    sent = socket.send_fds(self.sock, [data[:1]], fds)
                    data = data[sent:]
                self.sock.sendall(data)
            except OSError:
                pass  # the client hung up: its requests are moot

    # -- reading --

    def _wait_for_room(self) -> bool:
        """True when another request may be read; False when the client hung up first."""
        while True:
            with self._lock:
                if (self._count < IN_FLIGHT and self._bytes < IN_FLIGHT_BYTES
                        and self._fds < IN_FLIGHT_FDS):
                    self._reader_waits = False
                    return True
                self._reader_waits = True
            poller = select.poll()
            poller.register(self.sock, select.POLLRDHUP)
            poller.register(self._room, select.POLLIN)
            for fd, events in poller.poll():
                if fd == self.sock.fileno() and events & _HANG_UP:
                    return False
            try:
                os.eventfd_read(self._room)
            except BlockingIOError:
                pass

    def _accept(self, message: dict[str, Any], fds: list[int]) -> None:
        try:
            request_id, verb, args = protocol.parse_request(message)
        except protocol.BadRequest as exc:
            close_all(fds)
            self.send(_error(exc.request_id, exc))
            return
        if verb in QUICK:
            self._reply(*self._outcome(request_id, verb, args, fds, Cancellation()))
            return
        request = _Request(Cancellation(), self.reader.last_size, len(fds))
        with self._lock:
            duplicate = request_id in self._requests
            if not duplicate:
                self._requests[request_id] = request
                self._count += 1
                self._bytes += request.size
                self._fds += request.fds
        if duplicate:
            close_all(fds)
            self.send(_error(request_id, ProtocolError(
                f"request {request_id} is already in flight on this connection")))
            return
        self._pool.submit(self._run, request_id, verb, args, fds, request)

    # -- answering --

    def _run(self, request_id: int, verb: str, args: dict[str, Any], fds: list[int],
             request: _Request) -> None:
        answered = False
        try:
            if request.cancel.cancelled:
                close_all(fds)
                reply: tuple[dict[str, Any], list[int]] = (
                    _error(request_id, Cancelled(f"{verb} was cancelled")), [])
            else:
                reply = self._outcome(request_id, verb, args, fds, request.cancel)
            with self._lock:
                del self._requests[request_id]  # answered: its id is free again
                answered = True
            self._reply(*reply)
        finally:
            request.cancel.close()
            with self._lock:
                if not answered:
                    del self._requests[request_id]
                self._count -= 1
                self._bytes -= request.size
                self._fds -= request.fds
                wake = self._reader_waits
            if wake:
                os.eventfd_write(self._room, 1)

    def _outcome(self, request_id: int, verb: str, args: dict[str, Any], fds: list[int],
                 cancel: Cancellation) -> tuple[dict[str, Any], list[int]]:
        """The reply to a request, and the descriptors that go with it."""
        reply_fds: list[int] = []
        try:
            if verb == "cancel":
                result: Any = {"cancelled": self._cancel(args["request"])}
            else:
                result = self._dispatch(verb, args, fds, cancel)
            if isinstance(result, WithFds):
                reply_fds, result = result.fds, result.result
            reply: dict[str, Any] = {"id": request_id, "result": result}
        except SkiffError as exc:
            reply = _error(request_id, exc)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            reply = {"id": request_id, "error": {"kind": "helper",
                                                 "message": f"{exc.strerror or exc}{where}"}}
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            reply = {"id": request_id, "error": {"kind": "helper",
                                                 "message": f"internal helper error: {exc}"}}
        finally:
            close_all(fds)
        return reply, reply_fds

    def _reply(self, reply: dict[str, Any], fds: list[int]) -> None:
        try:
            self.send(reply, fds)
        finally:
            close_all(fds)

    def _cancel(self, request_id: int) -> bool:
        with self._lock:
            request = self._requests.get(request_id)
        if request is None:
            return False
        request.cancel.cancel()
        return True

    def _hang_up(self) -> None:
        with self._lock:
            pending = list(self._requests.values())
        for request in pending:
            request.cancel.cancel()
        self._pool.shutdown(wait=True)
        os.close(self._room)


def _error(request_id: int | None, exc: SkiffError) -> dict[str, Any]:
    error: dict[str, Any] = {"kind": exc.kind, "message": str(exc)}
    code = getattr(exc, "exit_code", None)
    if code is not None:
        error["exit_code"] = code
    return {"id": request_id, "error": error}


def close_all(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    fds.clear()
