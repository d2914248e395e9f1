"""A container's monitor keeps only its supervising loop: the start and the end of each
run happen in children of it, which leave nothing behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, RestartPolicy

pytestmark = pytest.mark.root


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


async def _state(engine: Engine, cid: str) -> dict[str, object]:
    state = (await engine.containers.inspect(cid)).docker_json()["State"]
    assert isinstance(state, dict)
    return state


async def _until(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_the_monitor_is_the_init_s_parent_and_its_only_child(engine: Engine) -> None:
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sleep", "600"], network="none"))
    await engine.containers.start(container.id)
    try:
        pid = int(str((await _state(engine, container.id))["Pid"]))
        monitor = _parent(pid)
        assert Path(f"/proc/{monitor}/comm").read_text().strip() == "skiff-monitor"


        async def only_the_init() -> bool:  # what started the run goes, reaped
            return _children(monitor) == {pid}

        await _until(only_the_init)
    finally:
        await engine.containers.remove(container.id, force=True)


async def test_restarts_by_policy_go_on_under_the_same_monitor(engine: Engine) -> None:
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=["sh", "-c", "sleep 2; exit 3"], network="none",
        restart_policy=RestartPolicy("on-failure", 2)))
    await engine.containers.start(container.id)
    try:
        monitor = _parent(int(str((await _state(engine, container.id))["Pid"])))
        pids = set()

        async def done() -> bool:
            state = await _state(engine, container.id)
            if state["Status"] == "running":
                pid = int(str(state["Pid"]))
                try:
                    assert _parent(pid) == monitor  # every run under the same monitor
                    pids.add(pid)
                except FileNotFoundError:
                    pass  # that run ended meanwhile
            data = (await engine.containers.inspect(container.id)).docker_json()
            return state["Status"] == "exited" and data["RestartCount"] == 2

        await _until(done)
        state = await _state(engine, container.id)
        assert state["ExitCode"] == 3
        assert len(pids) >= 2  # seen running more than once

        async def monitor_gone() -> bool:
            return _gone(monitor)

        await _until(monitor_gone)  # done with its container, the monitor goes
    finally:
        await engine.containers.remove(container.id, force=True)
