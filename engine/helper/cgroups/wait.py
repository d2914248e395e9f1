"""Polling for cgroup state the kernel changes asynchronously (freezing,
processes leaving), with a short backoff so the common fast case is fast."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["poll"]


def poll(done: Callable[[], bool], timeout: float,
         retry: Callable[[], None] | None = None) -> bool:
    """Call ``done`` until it is true or ``timeout`` seconds pass; ``retry``
    runs between attempts. Returns the last result."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
        if retry is not None:
            retry()
    return True
