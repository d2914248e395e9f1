"""The ``spawn`` fixture: gated processes, killed and reaped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.engine.cgroups.processes import Gated


@pytest.fixture
def spawn() -> Iterator[Callable[[list[str]], Gated]]:
    started: list[Gated] = []

    def start(argv: list[str]) -> Gated:
        gated = Gated(argv)
        started.append(gated)
        return gated

    yield start
    for gated in started:
        if gated.proc.poll() is None:
            gated.proc.kill()
        gated.proc.wait(timeout=30)
        for stream in (gated.proc.stdin, gated.proc.stdout, gated.proc.stderr):
            if stream is not None:
                stream.close()
