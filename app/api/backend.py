"""The one seam between the API and the engine.

Every handler reaches the engine through :func:`engine_of` and imports engine
types from here, so moving to the engine's public facade is a change in this
file (and the call sites' verbs), not a hunt through every route module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from engine import (
    ContainerConfig,
    DeviceMapping,
    Engine,
    Healthcheck,
    MountSpec,
    PortBinding,
    PruneFilter,
    Resources,
    RestartPolicy,
    Ulimit,
    exposed_ports,
    merge_config,
    parse_timestamp,
    parse_tmpfs,
    parse_volume,
    port_binding,
    rfc3339_ns,
    signal_name,
    status_text,
)

if TYPE_CHECKING:
    from app.api.answers import Answers
    from app.api.keeper import Keeper
    from app.api.sessions import Sessions

__all__ = ["ANSWERS", "ENGINE", "KEEPER", "SESSIONS", "ContainerConfig", "DeviceMapping", "Engine",
           "Healthcheck",
           "MountSpec", "PortBinding", "PruneFilter", "Resources", "RestartPolicy", "Ulimit",
           "answers_of", "engine_of", "exposed_ports",
           "keeper_of", "merge_config", "parse_timestamp", "parse_tmpfs",
           "parse_volume", "port_binding", "rfc3339_ns", "sessions_of", "signal_name",
           "status_text"]

ENGINE = web.AppKey("engine", Engine)
SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions")
KEEPER: web.AppKey[Keeper] = web.AppKey("keeper")
ANSWERS: web.AppKey[Answers] = web.AppKey("answers")


def engine_of(request: web.Request) -> Engine:
    return request.app[ENGINE]


def sessions_of(request: web.Request) -> Sessions:
    return request.app[SESSIONS]


def keeper_of(request: web.Request) -> Keeper:
    return request.app[KEEPER]


def answers_of(request: web.Request) -> Answers:
    return request.app[ANSWERS]


def parse_since(value: str | None) -> int | None:
    """docker's since/until (engine.timestamps' rule); None when not given."""
    return parse_timestamp(value) if value else None
