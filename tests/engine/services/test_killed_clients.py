"""Clients killed midway: what Skiff reports afterwards is what happened (issue 12, item 6)."""

from __future__ import annotations

from typing import Any

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig
from engine.containers.state import Status
from engine.errors import HelperLost, InvalidState
from engine.wire.requests import ContainerRemove

pytestmark = pytest.mark.root


def config(*cmd: str) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd))


async def test_a_remove_killed_after_the_helper_acted_is_finished_not_restarted(
        engine: Engine) -> None:
    container = await engine.containers.create(config("true"), name="half-removed")
    # What `skiff rm -f` had done when it was killed: marked, and the helper's part done.
    engine._shared.container_store.mark_removing(container.id)
    await engine._shared.call(ContainerRemove(id=container.id, force=True))
    async with Engine() as later:
        with pytest.raises(InvalidState, match="marked for removal"):
            await later.containers.start("half-removed")
        listed = {c.name: c.state.status for c in await later.containers.list(all=True)}
        assert listed.get("half-removed") is Status.REMOVING
    async with Engine() as next_one:
        await next_one.networks.list()  # its first helper call finishes the removal
        assert "half-removed" not in {c.name for c in await next_one.containers.list(all=True)}


async def test_a_start_whose_helper_died_reports_the_running_container(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    container = await engine.containers.create(config("sleep", "60"), name="started-anyway")
    real = engine._shared.helper.call

    async def dies_after_starting(verb: str, args: dict[str, Any],
                                  fds: list[int] | None = None) -> Any:
        result = await real(verb, args, fds)
        if verb == "container_start":
            raise HelperLost("the privileged helper exited")
        return result

    monkeypatch.setattr(engine._shared.helper, "call", dies_after_starting)
    started = await engine.containers.start(container.id)
    assert started.state.status is Status.RUNNING
    monkeypatch.undo()
    stopped = await engine.containers.create(config("sh", "-c", "exit 0"), name="not-started")
    monkeypatch.setattr(engine._shared.helper, "call", _refusing(real))
    with pytest.raises(HelperLost):
        await engine.containers.start(stopped.id)  # it did not run: the error stands


def _refusing(real: Any) -> Any:
    async def call(verb: str, args: dict[str, Any], fds: list[int] | None = None) -> Any:
        if verb == "container_start":
            raise HelperLost("the privileged helper exited")
        return await real(verb, args, fds)

    return call


async def test_an_auto_remove_container_goes_without_its_client(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run --rm` whose client was killed: the engine removes it once it exited."""
    from dataclasses import replace

    import engine.services.containers as containers_module

    made = await engine.containers.create(replace(config("true"), auto_remove=True),
                                          name="orphan-rm")
    await engine.containers.start(made.id)
    assert await engine.containers.wait(made.id) == 0  # what its client would have read
    assert "orphan-rm" not in {c.name for c in await engine.containers.list(all=True)}
    assert "orphan-rm" in engine._shared.container_store.names()  # left to its client a moment
    monkeypatch.setattr(containers_module, "AUTO_REMOVE_GRACE", 0.0)
    await engine.containers.list(all=True)
    assert "orphan-rm" not in engine._shared.container_store.names()
    assert not engine._shared.dir(made.id).exists()
