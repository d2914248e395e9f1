"""The shapes of the helper's request fields, and the one checker of them.

A ``Field`` says what one argument may be: its type, its pattern, its size and
range. ``check_dict`` checks a request's arguments against a verb's fields and
refuses, with a ProtocolError naming the field, anything unexpected: unknown
fields, wrong types, oversized strings and lists, values out of range. The
verbs' schemas are in engine/wire/protocol.py, the container spec's in
engine/wire/containerspec.py; both are this module's fields.

A pattern is a regular expression's text, compiled by re's own cache when a
value is first checked against it: the ~40 patterns of the protocol and the
spec, compiled at import, were ~4 ms of a first ``skiff inspect``.
"""

from __future__ import annotations

import re

from engine.errors import ProtocolError
from engine.frozen import frozen
from engine.names import NAME_PATTERN as CONTAINER_NAME
from engine.names import NETWORK_NAME_PATTERN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ABSOLUTE_PATH",
    "CONTAINER_ID",
    "CONTAINER_NAME",
    "DIGEST",
    "HOSTNAME",
    "IPV4",
    "IPV4_CIDR",
    "IPV6",
    "IPV6_CIDR",
    "MAC_ADDRESS",
    "NETWORK_ALIAS",
    "NETWORK_NAME",
    "VOLUME_NAME",
    "Field",
    "check",
    "check_dict",
    "compile_patterns",
    "int_field",
    "str_field",
]

CONTAINER_ID = r"^[0-9a-f]{64}$"
DIGEST = r"^sha256:[a-f0-9]{64}$"  # engine/images/blobs.py's text: compiled once for both
HOSTNAME = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$"
# A name a container answers to on a network. Docker sets no limit of its own and docker compose
# gives every container its name (PROJECT-SERVICE-N, often over 63 characters) as one, so the
# rule is a container name's characters up to a DNS name's 253.
NETWORK_ALIAS = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$"
ABSOLUTE_PATH = r"^/[^\x00]{0,4095}$"


@frozen
class Field:
    """One typed argument: ``kind`` is str, int, bool, list[str], list[int], list[dict] or dict."""

    kind: str
    required: bool = True
    pattern: str | None = None  # a regular expression
    max_len: int = 4096
    max_items: int = 256
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    items: dict[str, Field] | None = None  # for kind "list[dict]" / "dict"


def str_field(pattern: str | None = None, max_len: int = 4096,
              required: bool = True, choices: tuple[str, ...] = ()) -> Field:
    return Field("str", required, pattern, max_len, choices=choices)


def int_field(minimum: int | None = 0, maximum: int | None = None,
              required: bool = True) -> Field:
    return Field("int", required, minimum=minimum, maximum=maximum)


VOLUME_NAME = CONTAINER_NAME  # one rule for both, as in docker
NETWORK_NAME = NETWORK_NAME_PATTERN
IPV4 = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$"
IPV4_CIDR = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"
# IPv6's text has too many shapes for a pattern to decide; this bounds the
# characters and length, and the helper parses the rest.
IPV6 = r"^[0-9A-Fa-f:.]{2,45}$"
IPV6_CIDR = r"^[0-9A-Fa-f:.]{2,45}/[0-9]{1,3}$"
MAC_ADDRESS = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z"  # as the engine normalises it


def check_dict(value: object, schema: dict[str, Field], where: str) -> dict[str, Any]:
    """``value`` checked against ``schema`` (``where`` names it in errors); every field
    of the schema is in the result, None where an optional one was left out."""
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: expected an object")
    unknown = set(value) - set(schema)
    if unknown:
        raise ProtocolError(f"{where}: unknown field {sorted(unknown)[0][:64]!r}")
    result: dict[str, Any] = {}
    for name, field in schema.items():
        if name not in value or value[name] is None:
            if field.required:
                raise ProtocolError(f"{where}: missing field {name!r}")
            result[name] = None
            continue
        result[name] = check(value[name], field, f"{where}.{name}")
    return result


def check(value: object, field: Field, where: str) -> Any:
    """One value checked against its field."""
    kind = field.kind
    if kind == "str":
        if not isinstance(value, str):
            raise ProtocolError(f"{where}: expected a string")
        if len(value) > field.max_len or "\x00" in value:
            raise ProtocolError(f"{where}: too long or contains NUL")
        if field.pattern is not None and not re.match(field.pattern, value):
            raise ProtocolError(f"{where}: malformed value")
        if field.choices and value not in field.choices:
            raise ProtocolError(f"{where}: must be one of {', '.join(field.choices)}")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ProtocolError(f"{where}: expected an integer")
        if field.minimum is not None and value < field.minimum:
            raise ProtocolError(f"{where}: must be at least {field.minimum}")
        if field.maximum is not None and value > field.maximum:
            raise ProtocolError(f"{where}: must be at most {field.maximum}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ProtocolError(f"{where}: expected true or false")
        return value
    if kind.startswith("list["):
        if not isinstance(value, list) or len(value) > field.max_items:
            raise ProtocolError(f"{where}: expected a list of at most {field.max_items} items")
        if kind == "list[str]":
            item = Field("str", pattern=field.pattern, max_len=field.max_len)
            return [check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        if kind == "list[int]":
            item = Field("int", minimum=field.minimum, maximum=field.maximum)
            return [check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        assert field.items is not None
        return [check_dict(v, field.items, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind == "dict":
        assert field.items is not None
        return check_dict(value, field.items, where)
    raise ProtocolError(f"{where}: unsupported field kind {kind}")


def compile_patterns(schema: dict[str, Field]) -> None:
    """Compile a schema's patterns now, into re's cache: a process that forks a child
    per command does it once, before the forks (app/cli/forkserver.py)."""
    for field in schema.values():
        if field.pattern is not None:
            re.compile(field.pattern)
        if field.items is not None:
            compile_patterns(field.items)
