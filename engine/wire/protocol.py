"""The engine ↔ helper protocol: versioned, framed, validated.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON, at
most ``MAX_FRAME``; file descriptors ride along as SCM_RIGHTS on the frame's
first byte, at most ``MAX_FDS`` per frame (a container's bind sources arrive
together with its start). The engine opens with ``{"hello": VERSION}`` and the helper
answers with its own version and root. Requests are
``{"id": N, "verb": NAME, "args": {...}}``; replies are
``{"id": N, "result": ...}`` or ``{"id": N, "error": {"kind", "message"}}``.

Every request is checked against its verb's schema before anything acts on
it: unknown verbs and fields, wrong types, oversized strings and lists are
refused with a ProtocolError reply. JSON nested deeper than ``MAX_DEPTH`` is
refused before it is parsed (the parser recurses). Objects are named by ID
(container ID, layer digest); the helper derives every path itself.

``{"id": N, "verb": "cancel", "args": {"request": M}}`` asks the helper to stop
request M of the same connection; M then ends with a "cancelled" error.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable
from typing import Any

from engine.errors import ProtocolError
from engine.wire.requests import MAX_FDS, MAX_ID, schemas
from engine.wire.schema import Field, check_dict

__all__ = [
    "MAX_DEPTH",
    "MAX_FDS",
    "MAX_FRAME",
    "MAX_ID",
    "VERBS",
    "VERSION",
    "BadMessage",
    "BadRequest",
    "Field",
    "FrameReader",
    "encode_frame",
    "parse_request",
    "send_frame",
    "validate",
]

VERSION = 2  # 2: bind sources come as descriptors with container_start
MAX_FRAME = 1 << 20
MAX_DEPTH = 32
_HEADER = struct.Struct(">I")

#: Each verb's schema, derived from its request's fields (engine/wire/requests.py).
VERBS: dict[str, dict[str, Field]] = schemas()


class BadMessage(ProtocolError):
    """A frame that arrived whole but is not an acceptable message: the stream stays in step."""


class BadRequest(ProtocolError):
    """A request refused before it ran; ``request_id`` says whom the reply is for."""

    def __init__(self, message: str, request_id: int | None) -> None:
        super().__init__(message)
        self.request_id = request_id


def parse_request(message: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """A request's id, verb and checked arguments; BadRequest on anything unexpected."""
    request_id = message.get("id")
    if not isinstance(request_id, int) or isinstance(request_id, bool) \
            or not 0 <= request_id <= MAX_ID:
        raise BadRequest("a request needs an integer id", None)
    try:
        unknown = set(message) - {"id", "verb", "args"}
        if unknown:
            raise ProtocolError(f"unknown request field {sorted(unknown)[0][:64]!r}")
        verb = message.get("verb")
        args = validate(verb, message.get("args", {}))
    except ProtocolError as exc:
        raise BadRequest(str(exc), request_id) from None
    return request_id, str(verb), args


def validate(verb: object, args: object, schemas: dict[str, dict[str, Field]] = VERBS
             ) -> dict[str, Any]:
    """The request's arguments, checked; ProtocolError on anything unexpected."""
    if not isinstance(verb, str) or verb not in schemas:
        raise ProtocolError(f"unknown verb {str(verb)[:64]!r}")
    return check_dict(args, schemas[verb], verb)


def encode_frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"message of {len(body)} bytes exceeds the {MAX_FRAME} byte limit")
    return _HEADER.pack(len(body)) + body


def send_frame(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None
               ) -> None:
    data = encode_frame(message)
    if fds:
        sent = socket.send_fds(sock, [data[:1]], fds)
        data = data[sent:]
    sock.sendall(data)


class FrameReader:
    """Reads frames (and the fds that came with them) from a blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.last_size = 0  # bytes of the last frame read
        self._buffer = bytearray()
        # (buffer offset of the byte they came with, fds): one recv may return the end
        # of one frame and the start of the next, so fds belong to the frame holding
        # their byte, not to the frame that happens to complete first.
        self._fds: list[tuple[int, list[int]]] = []

    def _fill(self, need: int) -> bool:
        while len(self._buffer) < need:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 16, MAX_FDS)
            if fds:
                # The kernel ends a read right after the byte that carries fds.
                self._fds.append((len(self._buffer) + max(len(data), 1) - 1, list(fds)))
            if not data:
                return False
            self._buffer += data
        return True

    def read(self) -> tuple[dict[str, Any], list[int]] | None:
        """The next message and its fds; None at a clean end of stream.

        BadMessage for a whole frame that is not an acceptable message (its fds
        closed): the next frame can still be read. Any other ProtocolError means
        the stream is out of step and must be dropped."""
        if not self._fill(_HEADER.size):
            if self._buffer:
                raise ProtocolError("connection closed in the middle of a frame")
            return None
        (length,) = _HEADER.unpack_from(self._buffer)
        if length > MAX_FRAME:
            raise ProtocolError(f"frame of {length} bytes exceeds the {MAX_FRAME} byte limit")
        if not self._fill(_HEADER.size + length):
            raise ProtocolError("connection closed in the middle of a frame")
        end = _HEADER.size + length
        body = bytes(self._buffer[_HEADER.size:end])
        del self._buffer[:end]
        fds = [fd for offset, group in self._fds if offset < end for fd in group]
        self._fds = [(offset - end, group) for offset, group in self._fds if offset >= end]
        self.last_size = length
        try:
            _check_nesting(body)
            message = json.loads(body)
        except (ValueError, BadMessage) as exc:
            for fd in fds:
                _close(fd)
            if isinstance(exc, BadMessage):
                raise
            raise BadMessage(f"malformed JSON: {exc}") from None
        if not isinstance(message, dict):
            for fd in fds:
                _close(fd)
            raise BadMessage("a message must be a JSON object")
        return message, fds


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_SQUARE = bytes.maketrans(b"{}", b"[]")
_TOO_DEEP = b"[" * (MAX_DEPTH + 1)


def _check_nesting(body: bytes) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, or with unbalanced brackets, before
    json.loads recurses into it. Only whole-buffer operations (no per-byte Python, no
    backtracking regex), so a hostile megabyte costs milliseconds."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return  # no deeper than that, however the rest is (json.loads judges it)
    # Escaped backslashes pair up left to right, then escaped quotes are text: every
    # quote left opens or closes a string, and what lies between them is text too.
    text = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(text.translate(None, _NOT_STRUCTURE).split(b'"')[::2])
    brackets = outside.translate(_SQUARE)
    if _TOO_DEEP in brackets:
        raise BadMessage(f"malformed JSON: nested deeper than {MAX_DEPTH} levels")
    # Each pass removes every innermost pair: a pass per level empties a balanced rest.
    for _ in range(MAX_DEPTH):
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    if b"[]" in brackets:
        raise BadMessage(f"malformed JSON: nested deeper than {MAX_DEPTH} levels")
    if brackets:
        raise BadMessage("malformed JSON: unbalanced brackets")


def _close(fd: int) -> None:
    import os

    try:
        os.close(fd)
    except OSError:
        pass


Handler = Callable[..., Any]
