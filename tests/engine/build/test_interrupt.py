"""A build stopped midway (Ctrl-C, the window closed) leaves no container behind; a failing
RUN stops the build with its code and removes its container too."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.build import BuildOptions, BuildStepFailed
from engine.build.context import open_context
from tests.engine.build.helpers import write_context

REPO = Path(__file__).resolve().parents[3]


async def test_cancelled_build_removes_its_container(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo started; sleep 60\n"})
    before = {c.id for c in await engine.containers.list(all=True)}
    started = asyncio.Event()

    def progress(event: Any) -> None:
        if event.kind == "output" and "started" in event.text:
            started.set()

    context = open_context(tmp_path)
    task = asyncio.ensure_future(engine.images.build(context, BuildOptions(no_cache=True),
                                                     progress))
    await asyncio.wait_for(started.wait(), 60)
    assert {c.id for c in await engine.containers.list(all=True)} - before
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    context.close()
    assert {c.id for c in await engine.containers.list(all=True)} == before


async def test_failing_run_removes_its_container(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": "FROM busybox\nRUN exit 4\n"})
    before = {c.id for c in await engine.containers.list(all=True)}
    context = open_context(tmp_path)
    with pytest.raises(BuildStepFailed) as info:
        await engine.images.build(context, BuildOptions(no_cache=True))
    context.close()
    assert info.value.code == 4
    assert {c.id for c in await engine.containers.list(all=True)} == before


def test_ctrl_c_on_the_cli(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo started; sleep 60\n"})
    listed = subprocess.run([sys.executable, "-m", "app.cli", "ps", "-aq"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "build", "--no-cache",
                                "--progress", "plain", str(tmp_path)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ))
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("started"):
            break
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    after = subprocess.run([sys.executable, "-m", "app.cli", "ps", "-aq"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    assert set(after) == set(listed)
