from __future__ import annotations

from app.desktop.containers.badges import container_badge, job_badge, sort_group
from engine.containers.state import ContainerState, Status
from engine.wire.healthstate import HealthState


def test_badges_for_every_state() -> None:
    assert container_badge(ContainerState(Status.RUNNING)).text == "Running"
    assert container_badge(ContainerState(Status.PAUSED)).text == "Paused"
    assert container_badge(ContainerState(Status.RESTARTING)).text == "Restarting"
    assert container_badge(ContainerState(Status.CREATED)).text == "Created"
    exited = container_badge(ContainerState(Status.EXITED, exit_code=0))
    assert (exited.kind, exited.text) == ("exited", "Exited (0)")
    failed = container_badge(ContainerState(Status.EXITED, exit_code=137))
    assert (failed.kind, failed.text) == ("failed", "Exited (137)")
    oom = container_badge(ContainerState(Status.EXITED, exit_code=137, oom_killed=True))
    assert (oom.kind, oom.text) == ("oom", "OOM-killed")


def test_a_healthcheck_s_verdict_shows_while_running() -> None:
    def badge(status: str) -> tuple[str, str]:
        found = container_badge(ContainerState(Status.RUNNING, health=HealthState(status)))
        return found.kind, found.text

    assert badge("healthy") == ("running", "Healthy")
    assert badge("unhealthy") == ("unhealthy", "Unhealthy")
    assert badge("starting") == ("starting", "Starting")
    assert sort_group("unhealthy") == sort_group("running")
    stopped = ContainerState(Status.EXITED, exit_code=0, health=HealthState("unhealthy"))
    assert container_badge(stopped).text == "Exited (0)"


def test_job_badges() -> None:
    assert job_badge("downloading").text == "Downloading"
    assert job_badge("downloading", 42).text == "Downloading 42 %"
    assert job_badge("creating").text == "Creating"
    assert job_badge("downloading", 100, unpacking=True).text == "Unpacking"


def test_running_and_pending_sort_first() -> None:
    assert sort_group("running") < sort_group("exited")
    assert sort_group("downloading") == sort_group("paused") == 0
