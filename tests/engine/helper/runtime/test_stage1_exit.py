"""A container's PID 1 arms its parent-death signal only once stage 1 is reaped: armed
while stage 1 was still its parent, stage 1's own exit killed it (exit 137 and an empty
log, under load). The helper is told to keep stage 1 between closing its descriptors and
its exit, which a loaded machine does now and then."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.containers.config import MountSpec
from tests.engine.services.containerprobes import config, output
from tests.fixtures.engine import tidy_engine

pytestmark = pytest.mark.root

# Runs until the test says so: still running when stage 1 has surely exited.
_COMMAND = "while [ ! -e /host/go ]; do sleep 0.02; done; echo ran; exit 3"


@pytest.mark.usefixtures("busybox_image")
@pytest.mark.parametrize("init", [False, True], ids=["command", "with-init"])
async def test_the_command_lives_on_when_stage_1_is_slow_to_exit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, init: bool) -> None:
    monkeypatch.setenv("SKIFF_TEST_STAGE1_LINGER", "0.3")  # read by the helper it starts
    async with tidy_engine() as engine:
        made = await engine.containers.create(config(
            "sh", "-c", _COMMAND, network="none", init=init,
            mounts=[MountSpec("bind", "/host", str(tmp_path))]))
        await engine.containers.start(made.id)  # back once stage 1 was reaped
        (tmp_path / "go").touch()
        assert await engine.containers.wait(made.id) == 3
        assert await output(engine, made.id) == "ran\n"
