"""The API versions we speak, and the headers every answer carries.

Clients negotiate from ``/_ping``'s ``Api-Version``; every prefix from
``/v1.24`` up to the advertised version is accepted, as dockerd does.
"""

from __future__ import annotations

import platform

from app import VERSION

__all__ = ["API_VERSION", "MIN_API_VERSION", "check_version", "parse_version",
           "server_headers"]

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


def server_headers() -> dict[str, str]:
    return {
        "Api-Version": API_VERSION,
        "Server": f"Skiff/{VERSION} ({platform.system().lower()})",
        "OSType": "linux",
        "Docker-Experimental": "false",
    }
