"""The ``skiff`` fixture of the CLI's end-to-end tests (tests/app/cli/test_e2e*.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.cli.e2ehelpers import Skiff
from tests.fixtures.cli import skiff as _run


def _engine_ready() -> str:
    """"" when the engine imports; else why the tests are skipped."""
    try:
        from engine import Engine

        Engine.__init__  # noqa: B018 - importable is the check
    except Exception as exc:  # an engine that does not even import
        return f"the engine does not import: {exc}"
    return ""


@pytest.fixture
def skiff(busybox_image: str, skiff_root: Path) -> Iterator[Skiff]:
    """Runs the CLI; removes the containers created meanwhile."""
    reason = _engine_ready()
    if reason:
        pytest.skip(reason)
    assert os.environ["SKIFF_ROOT"] == str(skiff_root)
    before = set(_run("ps", "-aq", "--no-trunc").stdout.split())
    yield _run
    leftover = set(_run("ps", "-aq", "--no-trunc").stdout.split()) - before
    if leftover:
        _run("rm", "-f", *sorted(leftover))
    assert not set(_run("ps", "-aq", "--no-trunc").stdout.split()) - before

