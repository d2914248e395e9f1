"""A container's PID 1 is the monitor's own child from its birth (init.start_init):
the child of the monitor that started it may exit whenever it does, and PID 1 still
dies with the monitor.

Before, PID 1 was forked by a "stage 1" and armed its parent-death signal; armed while
stage 1 was still its parent, stage 1's exit killed it (exit 137 and an empty log,
under load). The helper is told to keep the starting child after PID 1's exec, which
a loaded machine does now and then."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from engine.containers.config import MountSpec
from engine.containers.state import Status
from tests.engine.services.containerprobes import config, eventually, output
from tests.fixtures.engine import tidy_engine

pytestmark = pytest.mark.root

# Runs until the test says so: still running when the starting child has surely exited.
_COMMAND = "while [ ! -e /host/go ]; do sleep 0.02; done; echo ran; exit 3"


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.usefixtures("busybox_image")
@pytest.mark.parametrize("init", [False, True], ids=["command", "with-init"])
async def test_the_command_lives_on_when_its_starter_is_slow_to_exit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, init: bool) -> None:
    monkeypatch.setenv("SKIFF_TEST_START_LINGER", "0.3")  # read by the helper it starts
    async with tidy_engine() as engine:
        made = await engine.containers.create(config(
            "sh", "-c", _COMMAND, network="none", init=init,
            mounts=[MountSpec("bind", "/host", str(tmp_path))]))
        await engine.containers.start(made.id)  # back once the starting child is done
        (tmp_path / "go").touch()
        assert await engine.containers.wait(made.id) == 3
        assert await output(engine, made.id) == "ran\n"


@pytest.mark.usefixtures("busybox_image")
@pytest.mark.parametrize("init", [False, True], ids=["command", "with-init"])
async def test_a_killed_monitor_takes_its_container_along(init: bool) -> None:
    async with tidy_engine() as engine:
        made = await engine.containers.create(config("sleep", "300", network="none",
                                                     init=init))
        await engine.containers.start(made.id)
        pid = (await engine.containers.get(made.id)).state.pid
        monitor = _parent(pid)
        assert Path(f"/proc/{monitor}/cmdline").read_bytes().startswith(b"skiff-monitor")
        os.kill(monitor, signal.SIGKILL)

        async def gone() -> bool:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                return True
            return state == "Z"  # dead, its new parent not yet told

        await eventually(gone, 30)

        async def recorded() -> bool:
            return (await engine.containers.get(made.id)).state.status is Status.EXITED

        await eventually(recorded, 30)
