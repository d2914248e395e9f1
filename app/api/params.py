"""Reading a request as dockerd does: query booleans and numbers, filters, JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from app.api.errors import ApiError

__all__ = ["filters", "flag", "json_body", "number", "optional_number"]

_FALSE = ("", "0", "no", "false", "none")


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    """Docker's BoolValue: absent is the default; "", 0, no, false, none are false."""
    if name not in request.query:
        return default
    return request.query[name].strip().lower() not in _FALSE


def optional_number(request: web.Request, name: str) -> int | None:
    text = request.query.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, f"invalid value for {name}: {text!r} is not a number") from None


def number(request: web.Request, name: str, default: int) -> int:
    value = optional_number(request, name)
    return default if value is None else value


def filters(request: web.Request, known: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """``filters={"label":{"a=b":true}}`` (compose's map form) or ``{"label":["a=b"]}``."""
    text = request.query.get("filters", "").strip()
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"invalid filter: {exc}") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid filter: expected a JSON object")
    found: dict[str, list[str]] = {}
    for key, value in raw.items():
        if known and key not in known:
            raise ApiError(400, f"invalid filter '{key}'")
        if isinstance(value, dict):
            found[key] = [str(v) for v, on in value.items() if on]
        elif isinstance(value, list):
            found[key] = [str(v) for v in value]
        else:
            found[key] = [str(value)]
    return found


async def json_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; a missing body is ``{}`` unless ``required``."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ApiError(400, "bad parameter: the request body is empty; send a JSON object")
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"invalid JSON in the request body: {exc}") from None
    if data is None and not required:
        return {}
    if not isinstance(data, dict):
        raise ApiError(400, "invalid JSON in the request body: expected an object")
    return data
