"""Error responses in plain sentences (pure: the formatter over response objects)."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx

from engine.errors import AuthenticationError, NotFound, RegistryError
from engine.registry.responses import (
    RegistryNotFound,
    TransientError,
    error_detail,
    response_error,
)


def _response(status: int, body: object = None, headers: dict[str, str] | None = None
              ) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


def test_error_detail_reads_the_distribution_error_body() -> None:
    body = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                        "detail": {"Tag": "nope"}}]}
    assert error_detail(_response(404, body)) == ("MANIFEST_UNKNOWN", "manifest unknown")
    assert error_detail(_response(404)) == ("", "not found")


def test_docker_hub_rate_limit_with_retry_after() -> None:
    response = _response(429, {"errors": [{"code": "TOOMANYREQUESTS", "message": "..."}]},
                         {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600",
                          "retry-after": "3600"})
    error = response_error(response, registry="docker.io", subject="manifest for busybox:latest")
    assert type(error) is RegistryError
    text = str(error)
    assert text.startswith("docker.io refused the request: too many requests (rate limit "
                           "reached: 100 requests per 6 hours); it resets at ")
    assert "(in 60 minutes)" in text
    assert text.endswith("logged-in Docker Hub users get a higher limit (`skiff login`)")


def test_rate_limit_reset_as_http_date_or_epoch() -> None:
    later = time.time() + 600
    for headers in ({"retry-after": formatdate(later, usegmt=True)},
                    {"x-ratelimit-reset": str(int(later))}):
        text = str(response_error(_response(429, None, headers), registry="ghcr.io",
                                  subject="x"))
        assert "(in 10 minutes)" in text, text
    bare = str(response_error(_response(429), registry="ghcr.io", subject="x"))
    assert bare == ("ghcr.io refused the request: too many requests (rate limit reached); "
                    "wait a while and try again")


def test_statuses_become_sentences() -> None:
    subject = "manifest for 127.0.0.1:5000/x:nope"
    denied = {"errors": [{"code": "DENIED", "message": "requested access to the resource is "
                                                      "denied"}]}
    cases = [
        (_response(404, {"errors": [{"code": "MANIFEST_UNKNOWN",
                                     "message": "manifest unknown"}]}), RegistryNotFound,
         "manifest for 127.0.0.1:5000/x:nope not found: manifest unknown"),
        (_response(403, denied), AuthenticationError,
         "pull access to manifest for 127.0.0.1:5000/x:nope denied: requested access to the "
         "resource is denied"),
        (_response(503), TransientError,
         "127.0.0.1:5000 failed with HTTP 503 (service unavailable) on manifest for "
         "127.0.0.1:5000/x:nope; try again later"),
        (_response(400), RegistryError,
         "127.0.0.1:5000 refused the pull of manifest for 127.0.0.1:5000/x:nope: HTTP 400 "
         "(bad request)"),
    ]
    for response, kind, text in cases:
        error = response_error(response, registry="127.0.0.1:5000", subject=subject)
        assert type(error) is kind
        assert str(error) == text
    # a registry's 404 is a missing object too (the API answers it with 404, as dockerd)
    assert isinstance(RegistryNotFound("x"), NotFound)
    assert isinstance(RegistryNotFound("x"), RegistryError)
