"""What the registry client reports to its callers."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PullProgress", "PushProgress", "SearchResult"]


@dataclass(frozen=True)
class PullProgress:
    """One step of one layer; the CLI draws bars from these, the app too.

    Only layers are reported, as docker lists them: the image config blob is
    fetched (or pushed) without a line of its own.
    """

    layer: str  # the layer blob's digest (sha256:...)
    status: str  # waiting | downloading | verifying | extracting | done | exists
    current: int = 0  # bytes so far
    total: int = 0  # bytes in all, 0 if unknown


@dataclass(frozen=True)
class PushProgress:
    layer: str
    status: str  # waiting | pushing | mounted | exists | done
    current: int = 0
    total: int = 0


@dataclass(frozen=True)
class SearchResult:
    name: str  # as it can be pulled: busybox, user/app, 127.0.0.1:5000/x/y
    description: str = ""
    stars: int = 0
    official: bool = False
