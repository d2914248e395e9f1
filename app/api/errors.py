"""Errors as dockerd sends them: ``{"message": ...}`` with Docker's status codes.

Handlers raise the engine's own errors (or :class:`ApiError` for what only the
HTTP layer knows); the middleware in :mod:`app.api.server` turns them into an
answer here, once. The texts are the engine's, which are Docker's where Docker
has the same thing ("No such container: x"), because clients match on them.
"""

from __future__ import annotations

import json

from aiohttp import web

from engine import (
    AuthenticationError,
    Conflict,
    ContainerStartError,
    InvalidArgument,
    InvalidState,
    NotFound,
)

__all__ = ["ApiError", "error_response", "status_of"]


class ApiError(Exception):
    """A refusal that belongs to the HTTP layer: a bad parameter, an unsupported field."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# Most specific first: the first class an error is an instance of decides.
_STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (InvalidState, 409),
    (InvalidArgument, 400),
    (AuthenticationError, 401),
    (ContainerStartError, 400),
]


def status_of(exc: Exception) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(status: int, message: str) -> web.Response:
    # Exactly "application/json" (no charset): the docker CLI reads the message out
    # of the body only then, and prints the raw JSON otherwise.
    return web.Response(status=status, body=json.dumps({"message": message}).encode() + b"\n",
                        headers={"Content-Type": "application/json"})
