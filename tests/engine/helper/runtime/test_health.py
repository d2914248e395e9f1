"""Healthchecks run by the container's monitor (issue 15): the state Docker shows,
its events, and probes that leave nothing behind."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from engine.containers.config import ContainerConfig
from engine.containers.health import Healthcheck
from engine.timestamps import rfc3339_ns
from tests.engine.helper.zombies import zombies_of

pytestmark = [pytest.mark.root, pytest.mark.asyncio]

MS = 1_000_000


async def _wait_health(engine: Any, ref: str, want: str, limit: float = 60.0
                       ) -> dict[str, Any]:
    """Until State.Health.Status is ``want`` (the limit only ends a hung test)."""
    deadline = time.monotonic() + limit
    while True:
        found = (await engine.containers.inspect(ref)).docker_json()
        health = found["State"].get("Health") or {}
        if health.get("Status") == want:
            return found
        assert time.monotonic() < deadline, f"health stayed {health}"
        await asyncio.sleep(0.05)


async def _run(engine: Any, image: str, check: Healthcheck, name: str,
               cmd: list[str] | None = None) -> Any:
    config = ContainerConfig(image=image, image_id=(await engine.images.get(image)).id,
                             cmd=cmd or ["sleep", "600"], healthcheck=check)
    container = await engine.containers.create(config, name=name)
    await engine.containers.start(container.id)
    return container


async def test_a_passing_probe_makes_it_healthy(engine: Any, busybox_image: str) -> None:
    check = Healthcheck(["CMD-SHELL", "echo ok from $HOSTNAME; test -e /tmp/ready"],
                        interval=100 * MS, retries=2)
    container = await _run(engine, busybox_image, check, "health-pass",
                           ["sh", "-c", "touch /tmp/ready; exec sleep 600"])
    found = await _wait_health(engine, container.id, "healthy")
    health = found["State"]["Health"]
    assert health["FailingStreak"] == 0
    last = health["Log"][-1]
    assert last["ExitCode"] == 0
    assert last["Output"] == f"ok from {container.id[:12]}\n"  # the container's env and UTS
    assert last["Start"] <= last["End"]
    assert found["Config"]["Healthcheck"]["Test"] == check.test
    listed = next(c for c in await engine.containers.list() if c.id == container.id)
    assert listed.state.health is not None and listed.state.health.label == "healthy"
    # Many probes later: never more than 5 kept, no zombie charged to the container.
    async def log() -> list[dict[str, Any]]:
        details = await engine.containers.inspect(container.id)
        found = details.docker_json()["State"]["Health"]["Log"]
        return list(found)

    probes: list[int] = []  # each probe's start, as the log showed it
    deadline = time.monotonic() + 60
    while len(probes) < 8:  # the log has been full for three more probes at least
        kept = await log()
        assert len(kept) <= 5, kept
        starts = [rfc3339_ns(p["Start"]) or 0 for p in kept]
        probes += [start for start in starts if not probes or start > probes[-1]]
        assert time.monotonic() < deadline, probes
        await asyncio.sleep(0.1)
    assert len(await log()) == 5
    assert zombies_of(container.id) == []


async def test_failing_probes_make_it_unhealthy_after_the_retries(engine: Any,
                                                                   busybox_image: str) -> None:
    check = Healthcheck(["CMD", "sh", "-c", "echo nope >&2; exit 3"], interval=100 * MS,
                        retries=2)
    container = await _run(engine, busybox_image, check, "health-fail")
    found = await _wait_health(engine, container.id, "unhealthy")
    health = found["State"]["Health"]
    assert health["FailingStreak"] >= 2
    assert health["Log"][-1]["ExitCode"] == 3
    assert health["Log"][-1]["Output"] == "nope\n"
    # The status is recorded before its event is journaled: wait for the event itself.
    await asyncio.wait_for(_told(engine, container.id, "health_status: unhealthy"), 30)


async def test_a_probe_past_its_timeout_is_killed_and_fails(engine: Any,
                                                            busybox_image: str) -> None:
    check = Healthcheck(["CMD", "sleep", "60"], interval=100 * MS, timeout=200 * MS,
                        retries=1)
    container = await _run(engine, busybox_image, check, "health-timeout")
    found = await _wait_health(engine, container.id, "unhealthy")
    last = found["State"]["Health"]["Log"][-1]
    assert last["ExitCode"] == -1
    assert last["Output"] == "Health check exceeded timeout (200ms)"
    await _wait_health(engine, container.id, "unhealthy")
    # the next probe may be running; every earlier one was killed at its timeout
    assert sum("sleep 60" in p.command for p in await engine.containers.top(container.id)) <= 1


async def test_a_command_that_cannot_run_is_reported(engine: Any, busybox_image: str) -> None:
    check = Healthcheck(["CMD", "/no/such/probe"], interval=100 * MS, retries=1)
    container = await _run(engine, busybox_image, check, "health-missing")
    found = await _wait_health(engine, container.id, "unhealthy")
    last = found["State"]["Health"]["Log"][-1]
    assert last["ExitCode"] == -1
    assert "/no/such/probe" in last["Output"]


async def test_a_stopped_container_is_unhealthy_and_none_disables(engine: Any,
                                                                  busybox_image: str) -> None:
    check = Healthcheck(["CMD", "true"], interval=100 * MS)
    container = await _run(engine, busybox_image, check, "health-stop")
    await _wait_health(engine, container.id, "healthy")
    await engine.containers.stop(container.id, timeout=1)
    found = (await engine.containers.inspect(container.id)).docker_json()
    assert found["State"]["Health"]["Status"] == "unhealthy"
    disabled = await _run(engine, busybox_image, Healthcheck(["NONE"]), "health-none")
    assert "Health" not in (await engine.containers.inspect(disabled.id)).docker_json()["State"]
    assert os.path.exists("/proc/self")  # (the engine's own process is untouched)


async def _told(engine: Any, container_id: str, action: str) -> None:
    """Once the container's events include ``action`` (replayed or as it happens)."""
    async for event in engine.events.stream(since_ns=0):
        if event.id == container_id and event.action == action:
            return
