"""Registry failures in plain sentences.

Two kinds of failure reach the user through here: error responses (HTTP
status plus the registry's ``{"errors": [{"code", "message"}]}`` body, and the
rate-limit headers of a 429) and transport errors raised by httpx (connection
refused, TLS, timeouts, a stream cut off). Each becomes a ``RegistryError`` or
``AuthenticationError`` that says what failed and what to do.
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from engine.errors import AuthenticationError, NotFound, RegistryError

__all__ = [
    "RegistryNotFound",
    "TransientError",
    "error_detail",
    "rate_limit_message",
    "response_error",
    "transport_error",
]


class TransientError(RegistryError):
    """A failure that may go away when tried again: a broken connection, a 5xx."""


class RegistryNotFound(RegistryError, NotFound):
    """The registry has no such repository, tag or digest (its 404): a registry
    failure and a missing object both, as dockerd answers it (404)."""

    kind = "registry_not_found"


def error_detail(response: httpx.Response) -> tuple[str, str]:
    """The first (code, message) of the registry's error body, or ("", reason)."""
    try:
        doc: Any = response.json()
    except (ValueError, UnicodeDecodeError, httpx.ResponseNotRead):
        doc = None
    if isinstance(doc, dict):
        errors = doc.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = str(errors[0].get("code") or "")
            message = str(errors[0].get("message") or code.lower().replace("_", " "))
            return code, message
        for key in ("message", "detail", "error"):
            if isinstance(doc.get(key), str):
                return "", doc[key]
    return "", response.reason_phrase.lower() or f"HTTP {response.status_code}"


def response_error(response: httpx.Response, *, registry: str, subject: str,
                   action: str = "pull", has_credentials: bool = False) -> RegistryError:
    """The error for a failed request about ``subject`` (``manifest for x:tag``)."""
    status = response.status_code
    code, detail = error_detail(response)
    if status == 429 or code == "TOOMANYREQUESTS":
        return RegistryError(rate_limit_message(response, registry))
    if status == 401:
        if has_credentials:
            return AuthenticationError(
                f"{action} access to {subject} denied: {registry} did not accept your "
                f"credentials ({detail}); run `skiff login {registry}` again")
        return AuthenticationError(
            f"{action} access to {subject} denied: the repository does not exist or "
            f"requires you to log in (run `skiff login {registry}`)")
    if status == 403:
        return AuthenticationError(f"{action} access to {subject} denied: {detail}")
    if status == 404:
        return RegistryNotFound(f"{subject} not found: {detail}")
    if status >= 500:
        return TransientError(f"{registry} failed with HTTP {status} ({detail}) on "
                             f"{subject}; try again later")
    return RegistryError(f"{registry} refused the {action} of {subject}: HTTP {status} "
                         f"({detail})")


def rate_limit_message(response: httpx.Response, registry: str) -> str:
    headers = response.headers
    text = f"{registry} refused the request: too many requests (rate limit reached"
    limit = headers.get("ratelimit-limit", "")
    if limit:
        count, _, window = limit.partition(";w=")
        if window.isdigit() and count.strip().isdigit():
            hours = int(window) / 3600
            per = f"{hours:g} hours" if hours >= 1 else f"{int(window)} seconds"
            text += f": {count.strip()} requests per {per}"
    text += ")"
    reset = _reset_time(headers)
    if reset is not None:
        minutes = max(0, round((reset - time.time()) / 60))
        stamp = datetime.fromtimestamp(reset).strftime("%H:%M")
        text += f"; it resets at {stamp} (in {minutes} minutes)"
    else:
        text += "; wait a while and try again"
    if registry in ("docker.io", "registry-1.docker.io"):
        text += "; logged-in Docker Hub users get a higher limit (`skiff login`)"
    return text


def _reset_time(headers: httpx.Headers) -> float | None:
    now = time.time()
    retry = headers.get("retry-after", "").strip()
    if retry:
        if retry.isdigit():
            return now + int(retry)
        try:
            when = parsedate_to_datetime(retry)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return when.timestamp()
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        value = headers.get(name, "").split(";")[0].strip()
        if value.isdigit():
            number = int(value)
            # Large numbers are epoch seconds, small ones seconds from now.
            return float(number) if number > 1_000_000_000 else now + number
    return None


def transport_error(error: httpx.HTTPError, *, registry: str, doing: str) -> RegistryError:
    """An httpx failure while ``doing`` something (``downloading layer sha256:..``)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return RegistryError(
                f"cannot verify the TLS certificate of {registry} ({cause.verify_message}); "
                f"if you trust it, add its CA to ~/.config/skiff/certs.d/{registry}/ca.crt "
                "or mark the registry insecure (SKIFF_INSECURE_REGISTRIES)")
        if isinstance(cause, ssl.SSLError):
            return TransientError(
                f"cannot speak TLS with {registry} ({cause.reason or cause}); if it serves "
                "plain HTTP and you trust the network, mark it insecure "
                "(SKIFF_INSECURE_REGISTRIES)")
        cause = cause.__cause__ or cause.__context__
    reason = _reason(error)
    if isinstance(error, httpx.ConnectTimeout):
        return TransientError(f"cannot reach {registry} while {doing}: the connection "
                             "timed out")
    if isinstance(error, httpx.TimeoutException):
        return TransientError(f"{registry} stopped answering while {doing} (timed out); "
                             "try again")
    if isinstance(error, httpx.ConnectError):
        return TransientError(f"cannot reach {registry} while {doing}: {reason}")
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return TransientError(f"the connection to {registry} broke while {doing} ({reason}); "
                             "try again")
    if isinstance(error, httpx.TooManyRedirects):
        return RegistryError(f"{registry} redirected too many times while {doing}")
    return RegistryError(f"request to {registry} failed while {doing}: {reason}")


def _reason(error: BaseException) -> str:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (is the registry running?)"
        if isinstance(cause, socket.gaierror):
            return "unknown host name"
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "no route to the host (check the network)"
        cause = cause.__cause__ or cause.__context__
    text = str(error).strip()
    if "Name or service not known" in text or "Temporary failure in name resolution" in text:
        return "unknown host name"
    return text or type(error).__name__
