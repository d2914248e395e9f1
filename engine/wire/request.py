"""What every request of the protocol is: a verb's arguments as a frozen dataclass whose
fields carry their schema, with a ``reply`` that reads the helper's answer into the
verb's own type. The requests themselves, one per verb, are engine/wire/requests.py's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Generic, Self, TypeVar

from engine.frozen import field, fields, frozen
from engine.wire.schema import CONTAINER_ID, Field, int_field, str_field

__all__ = ["MAX_FDS", "MAX_ID", "Flag", "NoReply", "Request", "Streams", "Verb", "WithFds",
           "container_id", "given", "optional", "result_and_fds", "schema", "signal_number"]

MAX_FDS = 128  # as many as a container has binds; the kernel allows 253
MAX_ID = (1 << 53) - 1

R = TypeVar("R")


class Verb(StrEnum):
    """Every verb of the protocol, as callers name it (never as a bare string); its
    request is ``REQUESTS[verb]``, its handler engine/helper/verbs.py's ``HANDLERS[verb]``."""

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
    VOLUME_FS = "volume_fs"
    REPAIR = "repair"
    NETWORK_CREATE = "network_create"
    NETWORK_REMOVE = "network_remove"
    NETWORK_LIST = "network_list"
    NETWORK_INSPECT = "network_inspect"
    NETWORK_CONNECT = "network_connect"
    NETWORK_DISCONNECT = "network_disconnect"
    NETWORK_REPAIR = "network_repair"


@frozen
class WithFds:
    """A verb's result that hands file descriptors back to the caller."""

    result: Any
    fds: list[int]


def result_and_fds(answer: Any) -> tuple[Any, list[int]]:
    """A helper's answer as its result and the descriptors that came with it."""
    return (answer.result, list(answer.fds)) if isinstance(answer, WithFds) else (answer, [])


class Request(Generic[R]):
    """A verb's arguments as a dataclass whose fields carry their schema."""

    VERB: ClassVar[Verb]

    def to_args(self) -> dict[str, Any]:
        """The arguments as they travel."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_checked(cls, args: dict[str, Any]) -> Self:
        """The request of arguments the protocol checked against the verb's schema."""
        return cls(**args)

    def reply(self, answer: Any) -> R:
        """The helper's answer (a result, or a WithFds) as this verb's reply."""
        raise NotImplementedError


class NoReply(Request[None]):
    """Answered with nothing the caller needs."""

    def reply(self, answer: Any) -> None:
        return None


class Streams(Request[list[int]]):
    """Answered with descriptors: a session's streams (empty when none came)."""

    def reply(self, answer: Any) -> list[int]:
        return result_and_fds(answer)[1]


class Flag(Request[bool]):
    """Answered yes or no."""

    def reply(self, answer: Any) -> bool:
        return bool(answer)


def schema(check: Field) -> dict[str, Field]:
    """A field's metadata: its schema (read by ``schema_of``)."""
    return {"schema": check}


def given(check: Field) -> Any:
    """A field the request must give."""
    return field(metadata=schema(check))


def optional(check: Field) -> Any:
    """A field the request may leave out (None)."""
    return field(default=None, metadata=schema(check))


def container_id() -> Any:
    """The container a request is about."""
    return given(str_field(CONTAINER_ID))


def signal_number() -> Any:
    """A signal to send, by number."""
    return given(int_field(1, 64))
