"""What the sidebar's status badge says for a container or for a job making one."""

from __future__ import annotations

from dataclasses import dataclass

from engine import ContainerState, Status

__all__ = ["Badge", "container_badge", "job_badge", "sort_group"]


@dataclass(frozen=True)
class Badge:
    kind: str  # downloading creating running paused restarting exited failed oom created ...
    text: str


def container_badge(state: ContainerState) -> Badge:
    status = state.status
    if status is Status.RUNNING and state.health is not None:
        # its healthcheck's verdict, as docker ps says it in parentheses
        return {"healthy": Badge("running", "Healthy"),
                "unhealthy": Badge("unhealthy", "Unhealthy")}.get(
            state.health.status, Badge("starting", "Starting"))
    if status is Status.RUNNING:
        return Badge("running", "Running")
    if status is Status.PAUSED:
        return Badge("paused", "Paused")
    if status is Status.RESTARTING:
        return Badge("restarting", "Restarting")
    if status is Status.REMOVING:
        return Badge("removing", "Removing")
    if state.oom_killed and status in (Status.EXITED, Status.DEAD):
        return Badge("oom", "OOM-killed")
    if status is Status.EXITED:
        return Badge("exited" if state.exit_code == 0 else "failed",
                     f"Exited ({state.exit_code})")
    if status is Status.DEAD:
        return Badge("failed", "Dead")
    return Badge("created", "Created")


def job_badge(phase: str, percent: int | None = None, unpacking: bool = False) -> Badge:
    """A container the app is still making: ``downloading`` (with %), ``creating``, ``error``."""
    if phase == "downloading" and unpacking:
        return Badge("downloading", "Unpacking")
    if phase == "downloading":
        return Badge("downloading", "Downloading" if percent is None
                     else f"Downloading {percent} %")
    if phase == "failed":
        return Badge("failed", "Failed")
    return Badge(phase, phase.capitalize())


def sort_group(kind: str) -> int:
    """Running (and about to run) first, the rest after."""
    return 0 if kind in ("downloading", "creating", "starting", "running", "paused",
                         "restarting", "unhealthy") else 1
