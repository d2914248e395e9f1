"""A container's state in docker's words (ps's STATUS, the API's Status)."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.containers.state import ContainerState, Status
from engine.containers.statustext import status_text
from engine.timestamps import format_rfc3339

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def ago(seconds: float) -> str:
    """An RFC 3339 time ``seconds`` before NOW."""
    return format_rfc3339(int((NOW - seconds) * 1e9))


def state(status: Status, **fields: object) -> ContainerState:
    return ContainerState(status=status, **fields)  # type: ignore[arg-type]


def test_status_as_docker_ps_and_the_api_say_it() -> None:
    assert status_text(state(Status.CREATED), NOW) == "Created"
    assert status_text(state(Status.RUNNING, started_at=ago(3)), NOW) == "Up 3 seconds"
    assert status_text(state(Status.PAUSED, started_at=ago(200)), NOW) == \
        "Up 3 minutes (Paused)"
    assert status_text(state(Status.EXITED, started_at=ago(200), finished_at=ago(90),
                                  exit_code=0), NOW) == "Exited (0) About a minute ago"
    assert status_text(state(Status.EXITED, started_at=ago(200), finished_at=ago(5),
                                  exit_code=137, oom_killed=True), NOW) == \
        "Exited (137) 5 seconds ago (OOMKilled)"
    assert status_text(state(Status.RESTARTING, started_at=ago(20), finished_at=ago(2),
                                  exit_code=1), NOW) == "Restarting (1) 2 seconds ago"
    assert status_text(state(Status.DEAD), NOW) == "Dead"
