"""The sidebar's project rows: a compose project's containers grouped under its name.

A container labelled ``com.docker.compose.project`` belongs to that project
(whichever client made it: ``skiff compose``, ``docker compose`` through ``skiff
serve``, the window). Each project gets a header row whose badge is the
project's overall status, as Docker Desktop and Podman Desktop show it.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.desktop.containers.badges import Badge, container_badge, sort_group
from engine import COMPOSE_PROJECT, Container

__all__ = ["PREFIX", "header_key", "project_badge", "project_of", "project_of_key"]

PREFIX = "project:"


def project_of(container: Container | None) -> str:
    if container is None or container.config.labels.get("com.docker.compose.oneoff") == "True":
        return ""
    return container.config.labels.get(COMPOSE_PROJECT, "")


def header_key(project: str) -> str:
    return PREFIX + project


def project_of_key(key: str) -> str:
    """The project a header row's key names; "" for a container's or a job's key."""
    return key[len(PREFIX):] if key.startswith(PREFIX) else ""


def project_badge(containers: Iterable[Container]) -> Badge:
    """``Running``, ``Exited``, or ``2/3 running``; ``Unhealthy`` wins, as it needs a look."""
    badges = [container_badge(c.state) for c in containers]
    running = sum(1 for b in badges if sort_group(b.kind) == 0)
    if any(b.kind == "unhealthy" for b in badges):
        return Badge("unhealthy", "Unhealthy")
    if badges and running == len(badges):
        return Badge("running", "Running")
    if running:
        return Badge("starting", f"{running}/{len(badges)} running")
    if any(b.kind in ("failed", "oom") for b in badges):
        return Badge("failed", "Exited")
    return Badge("exited", "Exited")
