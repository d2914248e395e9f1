"""Compose's variable interpolation: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``$$``...

Applied to every string value of a loaded file (keys stay as written), with
the values of the environment and the project's ``.env`` file, as Docker
Compose does: ``${VAR:-d}``/``${VAR-d}`` give a default when unset or empty /
unset, ``${VAR:?msg}``/``${VAR?msg}`` make it an error, ``${VAR:+r}``/``${VAR+r}``
replace a set value, and ``$$`` is a literal ``$``. Defaults may hold further
interpolation (``${A:-${B}}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import InvalidArgument

__all__ = ["InterpolationError", "interpolate", "substitute"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(InvalidArgument):
    """A ``${...}`` that is malformed or names a required variable that is not set."""


def substitute(text: str, env: Mapping[str, str], where: str = "",
               unset: Callable[[str], None] | None = None) -> str:
    """``text`` with every variable replaced; ``unset`` hears of each unset one used bare."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1:i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = _closing(text, i + 2)
            if end < 0:
                raise _invalid(text, where)
            out.append(_braced(text[i + 2:end], env, text, where, unset))
            i = end + 1
            continue
        match = _NAME.match(text, i + 1)
        if match is None:
            raise _invalid(text, where)
        name = match.group()
        if name not in env and unset is not None:
            unset(name)
        out.append(env.get(name, ""))
        i = match.end()
    return "".join(out)


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` that closes a ``${`` whose body starts at ``start``."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _braced(body: str, env: Mapping[str, str], text: str, where: str,
            unset: Callable[[str], None] | None) -> str:
    match = _NAME.match(body)
    if match is None:
        raise _invalid(text, where)
    name, rest = match.group(), body[match.end():]
    value = env.get(name)
    if not rest:
        if value is None and unset is not None:
            unset(name)
        return value or ""
    for op in (":-", "-", ":?", "?", ":+", "+"):
        if rest.startswith(op):
            arg = rest[len(op):]
            break
    else:
        raise _invalid(text, where)
    empty_counts = op.startswith(":")  # ":" ops treat an empty value as unset
    is_set = value is not None and (value != "" or not empty_counts)
    if op in (":-", "-"):
        return value if is_set and value is not None else substitute(arg, env, where, unset)
    if op in (":?", "?"):
        if not is_set:
            message = substitute(arg, env, where, unset)
            raise InterpolationError(f"required variable {name} is missing a value"
                                     + (f": {message}" if message else ""))
        return value or ""
    return substitute(arg, env, where, unset) if is_set else ""


def _invalid(text: str, where: str) -> InterpolationError:
    place = f" for {where}" if where else ""
    return InterpolationError(f'invalid interpolation format{place}: "{text}"; you may need '
                              "to escape any $ with another $")


def interpolate(value: Any, env: Mapping[str, str], where: str = "",
                unset: Callable[[str], None] | None = None) -> Any:
    """Every string in a loaded YAML tree, interpolated; ``where`` names the path in errors."""
    if isinstance(value, str):
        return substitute(value, env, where, unset)
    if isinstance(value, dict):
        return {key: interpolate(item, env, f"{where}.{key}" if where else str(key), unset)
                for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env, f"{where}[{n}]", unset) for n, item in enumerate(value)]
    return value
