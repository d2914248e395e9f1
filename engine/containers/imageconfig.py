"""The image's config merged with a container's own settings: Docker's one merge.

Docker's rules (moby ``daemon/commit.go`` ``merge`` and the create path): a
container's Entrypoint replaces the image's and then drops the image's Cmd; a
Cmd of its own replaces the image's; Env is the image's with the container's
variables over it, key by key; Labels likewise; ExposedPorts and Volumes are
the union; WorkingDir, User and StopSignal are the container's when it sets
them, else the image's; the Healthcheck takes the image's for every field the
container leaves at zero. What runs, what inspect shows, what ps prints as
COMMAND and what commit writes all come from :func:`merge_config`.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.frozen import field, frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine.containers.config import ContainerConfig
    from engine.containers.health import Healthcheck

__all__ = ["EffectiveConfig", "merge_command", "merge_config"]


@frozen
class EffectiveConfig:
    entrypoint: list[str] | None  # None: neither the image nor the container sets one
    cmd: list[str] | None
    env: list[str] = field(default_factory=list)
    working_dir: str = ""  # "": neither sets one (the process starts in /)
    user: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: list[str] = field(default_factory=list)  # "80/tcp", sorted
    volumes: list[str] = field(default_factory=list)  # the image's anonymous volume paths
    stop_signal: str = ""  # "": SIGTERM
    healthcheck: Healthcheck | None = None

    @property
    def args(self) -> list[str]:
        """What runs: Entrypoint + Cmd."""
        return [*(self.entrypoint or []), *(self.cmd or [])]


def merge_config(config: ContainerConfig, image: Mapping[str, Any]) -> EffectiveConfig:
    """``image``: the image's run config (OCI ``config``, Docker's ``Config``), or {}."""
    # here: `ps` needs only merge_command, and none of these modules
    from engine.containers.health import merge_healthcheck
    from engine.environ import merge_env

    entrypoint, cmd = merge_command(config, image)
    exposed = {*(image.get("ExposedPorts") or {}), *config.exposed_ports,
               *(f"{p.container_port}/{p.protocol}" for p in config.ports)}
    return EffectiveConfig(
        entrypoint=entrypoint,
        cmd=cmd,
        env=merge_env(list(image.get("Env") or []), config.env),
        working_dir=config.working_dir or str(image.get("WorkingDir") or ""),
        user=config.user or str(image.get("User") or ""),
        labels={**(image.get("Labels") or {}), **config.labels},
        exposed_ports=sorted(exposed),
        volumes=list(image.get("Volumes") or {}),
        stop_signal=config.stop_signal or str(image.get("StopSignal") or ""),
        healthcheck=merge_healthcheck(config.healthcheck, image.get("Healthcheck")),
    )


def merge_command(config: ContainerConfig, image: Mapping[str, Any]
                  ) -> tuple[list[str] | None, list[str] | None]:
    """merge_config's (Entrypoint, Cmd) alone, for what shows only the command: ps
    listed 201 containers with the whole merge in ~3 ms, with this in ~0.05."""
    if config.entrypoint is not None:
        return list(config.entrypoint), list(config.cmd) if config.cmd is not None else None
    return (_strings(image.get("Entrypoint")),
            list(config.cmd) if config.cmd is not None else _strings(image.get("Cmd")))


def _strings(value: Any) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None
