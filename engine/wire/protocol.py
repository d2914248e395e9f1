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
import re
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.errors import ProtocolError
from engine.wire.containerspec import SCHEMA as CONTAINER_SPEC
from engine.wire.schema import (
    ABSOLUTE_PATH,
    CONTAINER_ID,
    CONTAINER_NAME,
    DIGEST,
    HOSTNAME,
    IPV4,
    IPV4_CIDR,
    NETWORK_NAME,
    VOLUME_NAME,
    Field,
    check_dict,
)
from engine.wire.schema import int_field as _int
from engine.wire.schema import str_field as _str

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
    "Verb",
    "WithFds",
    "encode_frame",
    "parse_request",
    "send_frame",
    "validate",
]

VERSION = 2  # 2: bind sources come as descriptors with container_start
MAX_FRAME = 1 << 20
MAX_FDS = 128  # as many as a container has binds; the kernel allows 253
MAX_DEPTH = 32
MAX_ID = (1 << 53) - 1
_HEADER = struct.Struct(">I")

_SOURCES = Field("list[int]", required=False, max_items=MAX_FDS, minimum=0, maximum=127)

# A network a container joins at start: its aliases there, the IPv4 address asked for.
_JOIN = {"network": _str(NETWORK_NAME),
         "aliases": Field("list[str]", required=False, pattern=HOSTNAME, max_items=32),
         "ip": _str(IPV4, required=False)}


class Verb(StrEnum):
    """Every verb of the protocol, as callers name it (never as a bare string); its
    schema is ``VERBS[verb]``, its handler engine/helper/verbs.py's ``HANDLERS[verb]``."""

    PING = "ping"
    CANCEL = "cancel"
    LAYER_EXISTS = "layer_exists"
    CLAIM_LAYER = "claim_layer"
    UNPACK_LAYER = "unpack_layer"
    REMOVE_LAYER = "remove_layer"
    CONTAINER_CREATE = "container_create"
    CONTAINER_START = "container_start"
    CONTAINER_ATTACH = "container_attach"
    CONTAINER_SIGNAL = "container_signal"
    CONTAINER_STOP = "container_stop"
    CONTAINER_PAUSE = "container_pause"
    CONTAINER_UNPAUSE = "container_unpause"
    CONTAINER_REMOVE = "container_remove"
    CONTAINER_CHANGES = "container_changes"
    CONTAINER_LAYER = "container_layer"
    CONTAINER_EXEC = "container_exec"
    CONTAINER_FS = "container_fs"
    CONTAINER_NAMESPACES = "container_namespaces"
    CONTAINER_RENAME = "container_rename"
    CONTAINER_CLEAR_LOG = "container_clear_log"
    CONTAINER_UPDATE = "container_update"
    DISK_USAGE = "disk_usage"
    VOLUME_CREATE = "volume_create"
    VOLUME_REMOVE = "volume_remove"
    REPAIR = "repair"
    NETWORK_CREATE = "network_create"
    NETWORK_REMOVE = "network_remove"
    NETWORK_LIST = "network_list"
    NETWORK_INSPECT = "network_inspect"
    NETWORK_CONNECT = "network_connect"
    NETWORK_DISCONNECT = "network_disconnect"
    NETWORK_REPAIR = "network_repair"


VERBS: dict[str, dict[str, Field]] = {
    "ping": {},
    "cancel": {"request": _int(0, MAX_ID)},
    "layer_exists": {"diff_id": _str(DIGEST)},
    # Records the caller's reference to the layer if it is unpacked; says whether it is.
    "claim_layer": {"diff_id": _str(DIGEST)},
    "unpack_layer": {"diff_id": _str(DIGEST), "digest": _str(DIGEST, required=False)},
    "remove_layer": {"diff_id": _str(DIGEST)},
    "container_create": {"id": _str(CONTAINER_ID), "spec": Field("dict", items=CONTAINER_SPEC)},
    # With one descriptor per bind (not volume, not tmpfs) of the spec, opened by the
    # caller: "sources" says which bind (its index in the spec's binds) each one is.
    "container_start": {"id": _str(CONTAINER_ID), "attach": Field("bool", required=False),
                        "sources": _SOURCES,
                        # Every network to join, the container's own first: joined before
                        # its process starts, and kept across restarts by its monitor.
                        "networks": Field("list[dict]", required=False, max_items=64,
                                          items=_JOIN)},
    "container_attach": {"id": _str(CONTAINER_ID)},
    "container_signal": {"id": _str(CONTAINER_ID), "signal": _int(1, 64)},
    "container_stop": {"id": _str(CONTAINER_ID), "signal": _int(1, 64),
                       "timeout": _int(0, 86400)},
    "container_pause": {"id": _str(CONTAINER_ID)},
    "container_unpause": {"id": _str(CONTAINER_ID)},
    "container_remove": {"id": _str(CONTAINER_ID), "force": Field("bool")},
    "container_changes": {"id": _str(CONTAINER_ID)},
    # build and commit: the changes as a layer tar, into the one regular file passed.
    "container_layer": {"id": _str(CONTAINER_ID)},
    "container_exec": {
        "id": _str(CONTAINER_ID),
        "args": Field("list[str]", max_items=4096, max_len=131072),
        "env": Field("list[str]", max_items=4096, max_len=131072),
        "user": _str(re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")),
        "cwd": _str(re.compile(r"^(/[^\x00]{0,4095})?$")),
        "tty": Field("bool"),
        "rows": _int(0, 10000),
        "cols": _int(0, 10000),
    },
    # A look inside the container's filesystem (engine/helper/runtime/fsview.py).
    "container_fs": {
        "id": _str(CONTAINER_ID),
        "op": _str(choices=("stat", "list", "read", "get", "put")),
        "path": _str(ABSOLUTE_PATH),
        "follow": Field("bool"),
        "limit": _int(0, 1 << 30),
        "name": _str(re.compile(r"^(?!\.\.$)(\.|[^/\x00]{1,255})$"), max_len=1024),
        "archive": Field("bool"),
        "sources": _SOURCES,  # as for container_start; a bind left out is not shown
    },
    "container_namespaces": {"id": _str(CONTAINER_ID)},
    "container_rename": {"id": _str(CONTAINER_ID), "name": _str(CONTAINER_NAME)},
    "container_clear_log": {"id": _str(CONTAINER_ID)},
    # docker update: the limits and restart policy, whole (None: no limit).
    "container_update": {"id": _str(CONTAINER_ID),
                         **{k: CONTAINER_SPEC[k] for k in ("memory", "nano_cpus", "pids_limit",
                                                  "restart_policy", "restart_max")}},
    # docker system df: bytes in the caller's containers' upper dirs and volumes.
    "disk_usage": {"containers": Field("list[str]", pattern=CONTAINER_ID, max_items=100000),
                   "volumes": Field("list[str]", pattern=VOLUME_NAME, max_items=100000)},
    "volume_create": {"name": _str(VOLUME_NAME)},
    "volume_remove": {"name": _str(VOLUME_NAME)},
    "repair": {"ids": Field("list[str]", pattern=CONTAINER_ID, max_items=100000),
               "layers": Field("list[str]", pattern=DIGEST, max_items=100000, required=False)},
    "network_create": {"name": _str(NETWORK_NAME), "subnet": _str(IPV4_CIDR, required=False),
                       "gateway": _str(IPV4, required=False),
                       "ip_range": _str(IPV4_CIDR, required=False),
                       "internal": Field("bool", required=False)},
    "network_remove": {"name": _str(NETWORK_NAME)},
    "network_list": {},
    "network_inspect": {"name": _str(NETWORK_NAME)},
    "network_connect": {"id": _str(CONTAINER_ID), "network": _str(NETWORK_NAME),
                        "name": _str(CONTAINER_NAME, required=False),
                        "hostname": _str(HOSTNAME, required=False),
                        "aliases": Field("list[str]", required=False, pattern=HOSTNAME,
                                         max_items=32),
                        "ip": _str(IPV4, required=False)},
    "network_disconnect": {"id": _str(CONTAINER_ID), "network": _str(NETWORK_NAME)},
    "network_repair": {},
}


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


@dataclass(frozen=True)
class WithFds:
    """A verb's result that hands file descriptors back to the caller."""

    result: Any
    fds: list[int]


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
