"""What the ``skiff`` end-to-end tests share: the ``skiff`` fixture (in this folder's
conftest.py) runs the CLI and removes the containers a test made; these check its
answers and wait on its state."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

__all__ = ["Skiff", "no_traceback", "wait_for"]

Skiff = Callable[..., subprocess.CompletedProcess[str]]


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def wait_for(predicate: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)


