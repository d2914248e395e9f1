"""The ``skiff`` command line, run as a user would, to hold the window's pages to it."""

from __future__ import annotations

from tests.fixtures.cli import skiff as run

__all__ = ["skiff"]


def skiff(*args: str) -> str:
    """Its standard output; a failure fails the test with what it printed."""
    done = run(*args)
    assert done.returncode == 0, f"skiff {' '.join(args)}: {done.stderr}"
    return done.stdout
