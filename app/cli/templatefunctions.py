"""The values and functions of Go's text/template as docker's --format uses them.

How Go prints a value (``go_string``), what counts as true, and the functions a
template may call: docker's (json, join, split, upper, lower, title, truncate,
pad, println) and Go's (index, len, eq, ne, lt, le, gt, ge, and, or, not,
print, printf, slice).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FUNCTIONS", "NO_VALUE", "TemplateError", "go_string", "truth"]


class TemplateError(Exception):
    """A format string that does not parse or cannot run over its data."""


NO_VALUE = object()  # Go prints a missing map key as "<no value>"


def go_string(value: Any) -> str:
    """How Go's fmt %v prints a value that came from JSON-like data."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        items = " ".join(f"{go_string(k)}:{go_string(value[k])}" for k in sorted(value, key=str))
        return f"map[{items}]"
    return str(value)


def truth(value: Any) -> bool:
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


def _go_json(value: Any) -> str:
    text = json.dumps(None if value is NO_VALUE else value, ensure_ascii=False,
                      separators=(",", ":"))
    # Go's encoder escapes these for HTML safety; docker's output has them so.
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key, NO_VALUE)
        elif isinstance(value, list | tuple | str):
            try:
                value = value[int(key)]
            except (IndexError, ValueError, TypeError):
                raise TemplateError(f"error calling index: index out of range: {key}") from None
        else:
            raise TemplateError(f"can't index item of type {type(value).__name__}")
    return value


def _printf(fmt: str, *args: Any) -> str:
    # Go verbs map to Python's %-formatting for the common cases; %v and %q get Go's forms.
    converted: list[Any] = []
    verbs = re.findall(r"%[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])", fmt)
    arg_iter = iter(args)
    for verb in verbs:
        if verb == "%":
            continue
        arg = next(arg_iter, None)
        if verb == "v":
            converted.append(go_string(arg))
        elif verb == "q":
            converted.append(json.dumps(go_string(arg)))
        else:
            converted.append(arg)
    pyfmt = re.sub(r"%([-+# 0]*\d*(?:\.\d+)?)[vq]", r"%\1s", fmt)
    pyfmt = re.sub(r"%([-+# 0]*\d*(?:\.\d+)?)t", r"%\1s", pyfmt)
    try:
        return pyfmt % tuple(converted)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"error calling printf: {exc}") from None


def _compare(name: str, op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def compare(a: Any, *others: Any) -> bool:
        if not others:
            raise TemplateError(f"wrong number of args for {name}: want at least 2 got 1")
        try:
            if name == "eq":  # eq a b c: a equals any of b, c
                return any(op(a, b) for b in others)
            return op(a, others[0])
        except TypeError:
            raise TemplateError(f"error calling {name}: incompatible types for "
                                "comparison") from None
    return compare


def _slice(value: Any, *indexes: Any) -> Any:
    bounds = [int(i) for i in indexes]
    if len(bounds) == 1:
        return value[bounds[0]:]
    if len(bounds) >= 2:
        return value[bounds[0]:bounds[1]]
    return value


def _and(*args: Any) -> Any:
    result: Any = True
    for arg in args:
        result = arg
        if not truth(arg):
            return arg
    return result


def _or(*args: Any) -> Any:
    result: Any = False
    for arg in args:
        result = arg
        if truth(arg):
            return arg
    return result


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": _go_json,
    "join": lambda items, sep: sep.join(go_string(i) for i in (items or [])),
    "split": lambda text, sep: go_string(text).split(sep),
    "upper": lambda text: go_string(text).upper(),
    "lower": lambda text: go_string(text).lower(),
    "title": lambda text: go_string(text).title(),
    "truncate": lambda text, n: go_string(text)[:int(n)],
    "pad": lambda text, left, right: " " * int(left) + go_string(text) + " " * int(right),
    "println": lambda *args: " ".join(go_string(a) for a in args) + "\n",
    "print": lambda *args: "".join(go_string(a) for a in args),
    "printf": _printf,
    "index": _index,
    "len": lambda value: len(value) if value not in (None, NO_VALUE) else 0,
    "slice": _slice,
    "not": lambda value: not truth(value),
    "and": _and,
    "or": _or,
    "eq": _compare("eq", lambda a, b: a == b),
    "ne": _compare("ne", lambda a, b: a != b),
    "lt": _compare("lt", lambda a, b: a < b),
    "le": _compare("le", lambda a, b: a <= b),
    "gt": _compare("gt", lambda a, b: a > b),
    "ge": _compare("ge", lambda a, b: a >= b),
}
