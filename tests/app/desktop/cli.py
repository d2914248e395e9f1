"""The ``skiff`` command line, run as a user would, to hold the window's pages to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["skiff"]

REPO = Path(__file__).resolve().parents[3]


def skiff(*args: str) -> str:
    """Its standard output; a failure fails the test with what it printed."""
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, f"skiff {' '.join(args)}: {done.stderr}"
    return done.stdout
