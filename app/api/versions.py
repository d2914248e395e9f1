"""The API versions we speak, and the headers every answer carries.

Clients negotiate from ``/_ping``'s ``Api-Version``; every prefix from
``/v1.24`` up to the advertised version is accepted, as dockerd does.
"""

from __future__ import annotations

import functools
import platform
from importlib import metadata

__all__ = ["API_VERSION", "MIN_API_VERSION", "check_version", "parse_version",
           "server_headers", "skiff_version"]

API_VERSION = "1.47"
MIN_API_VERSION = "1.24"


def parse_version(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)


def check_version(text: str) -> str:
    """Docker's message for a version outside our range; "" when it is fine."""
    try:
        asked = parse_version(text)
    except ValueError:
        return f"invalid API version {text!r}"
    if asked < parse_version(MIN_API_VERSION):
        return (f"client version {text} is too old. Minimum supported API version is "
                f"{MIN_API_VERSION}, please upgrade your client to a newer version")
    if asked > parse_version(API_VERSION):
        return (f"client version {text} is too new. Maximum supported API version is "
                f"{API_VERSION}")
    return ""


@functools.cache
def skiff_version() -> str:
    """The installed package's version (read once: the metadata lookup parses files)."""
    try:
        return metadata.version("skiff")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def server_headers() -> dict[str, str]:
    return {
        "Api-Version": API_VERSION,
        "Server": f"Skiff/{skiff_version()} ({platform.system().lower()})",
        "OSType": "linux",
        "Docker-Experimental": "false",
    }
