"""A project's verbs on the engine (start, stop, restart, up again) and ``depends_on.restart``:
a service that depends on another with ``restart: true`` restarts when that one is restarted
or recreated; the others are left alone (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine, LoadOptions, Runner, load_project

pytestmark = pytest.mark.root

PROJECT = """
name: verbs
services:
  db:
    image: busybox:latest
    command: [sh, -c, "trap 'exit 0' TERM; sleep {db_sleep} & wait"]
  app:
    image: busybox:latest
    command: [sh, -c, "trap 'exit 0' TERM; sleep 600 & wait"]
    depends_on:
      db: {{condition: service_started, restart: true}}
  other:
    image: busybox:latest
    command: [sh, -c, "trap 'exit 0' TERM; sleep 600 & wait"]
    depends_on: [db]
"""


def _runner(engine: Engine, directory: Path, db_sleep: str = "600") -> tuple[Runner, list[str]]:
    (directory / "compose.yaml").write_text(PROJECT.format(db_sleep=db_sleep))
    said: list[str] = []
    project = load_project(LoadOptions(workdir=directory, environ={}))
    return Runner(engine, project, lambda kind, name, what: said.append(f"{name} {what}")), said


async def _started(engine: Engine, runner: Runner) -> dict[str, tuple[str, str]]:
    """service -> (container ID, when it last started)."""
    return {c.config.labels["com.docker.compose.service"]: (c.id, c.state.started_at or "")
            for c in await runner.containers()}


async def test_restart_and_recreate_carry_to_restart_dependents(engine: Engine,
                                                                 tmp_path: Path) -> None:
    runner, said = _runner(engine, tmp_path)
    try:
        await runner.up()
        first = await _started(engine, runner)
        assert sorted(first) == ["app", "db", "other"]

        await runner.restart(["db"])
        restarted = await _started(engine, runner)
        assert restarted["db"][1] != first["db"][1]
        assert restarted["app"][1] != first["app"][1]  # restart: true
        assert restarted["other"] == first["other"]

        # db's file changes: up recreates db, restarts app, leaves other running as it was
        runner, said = _runner(engine, tmp_path, db_sleep="601")
        await runner.up()
        after = await _started(engine, runner)
        assert after["db"][0] != first["db"][0]
        assert after["app"][0] == first["app"][0] and after["app"][1] != restarted["app"][1]
        assert after["other"] == first["other"]
        assert said.index("verbs-app-1 Stopping") < said.index("verbs-db-1 Recreate")
        assert "verbs-other-1 Stopping" not in said

        # stop names only its services; start brings what they depend on
        await runner.stop(["db"])
        states = {c.name: c.state.running for c in await runner.containers()}
        assert states == {"verbs-app-1": True, "verbs-db-1": False, "verbs-other-1": True}
        await runner.stop(["app"])
        await runner.start(["app"])
        states = {c.name: c.state.running for c in await runner.containers()}
        assert all(states.values()), states
    finally:
        await runner.down(timeout=0)
    assert await runner.containers() == []
