"""System endpoints: ``/_ping``, ``/version``, ``/info`` and the ``/events`` stream."""

from __future__ import annotations

import os
import platform
import socket
from typing import Any

from aiohttp import web

from app import VERSION
from app.api import versions
from app.api.backend import engine_of, parse_timestamp
from app.api.params import filters
from app.api.routing import Routes
from app.api.streams import json_line
from engine import host_memory, os_name

__all__ = ["event_json", "routes"]

routes = Routes()

EVENT_FILTERS = ("container", "event", "image", "label", "type", "network", "volume",
                 "scope", "daemon", "node", "plugin", "config", "secret", "service")


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


async def _ping(request: web.Request) -> web.StreamResponse:
    headers = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
               "Builder-Version": "1"}
    return web.Response(text="OK", content_type="text/plain", charset="utf-8",
                        headers=headers)


routes.get("/_ping")(_ping)
routes.head("/_ping")(_ping)


@routes.get("/version")
async def version(request: web.Request) -> web.StreamResponse:
    data = {
        "Platform": {"Name": "Skiff"},
        "Components": [{"Name": "Engine", "Version": VERSION,
                        "Details": {"ApiVersion": versions.API_VERSION,
                                    "MinAPIVersion": versions.MIN_API_VERSION,
                                    "Os": "linux", "Arch": _arch(),
                                    "KernelVersion": platform.release(),
                                    "PythonVersion": platform.python_version()}}],
        "Version": VERSION,
        "ApiVersion": versions.API_VERSION,
        "MinAPIVersion": versions.MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": _arch(),
        "KernelVersion": platform.release(),
        "BuildTime": "",
    }
    return web.json_response(data)




@routes.get("/info")
async def info(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    containers = await engine.containers.list(all=True)
    images = await engine.images.list(all=True)  # dockerd counts the untagged layers' too
    states = [c.state.status.value for c in containers]
    running, paused = states.count("running"), states.count("paused")
    data: dict[str, Any] = {
        "ID": _host_id(),
        "Containers": len(containers),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": len(states) - running - paused,
        "Images": len(images),
        "Driver": "overlay2",
        "DriverStatus": [],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"],
                    "Authorization": None, "Log": ["json-file", "local"]},
        "MemoryLimit": True,
        "SwapLimit": False,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": False,
        "CPUSet": False,
        "PidsLimit": True,
        "IPv4Forwarding": True,
        "Debug": False,
        "OomKillDisable": False,
        "NGoroutines": 0,
        "NFd": 0,
        "SystemTime": _now(),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
        "NEventsListener": 0,
        "KernelVersion": platform.release(),
        "OperatingSystem": os_name(),
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": platform.machine(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                           "Mirrors": []},
        "NCPU": os.cpu_count() or 0,
        "MemTotal": host_memory(),
        "DockerRootDir": str(engine.system.root),
        "Name": socket.gethostname(),
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": VERSION,
        "Runtimes": {"skiff": {"path": "skiff-helper"}},
        "DefaultRuntime": "skiff",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                  "ControlAvailable": False, "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": True,
        "Isolation": "",
        "InitBinary": "",
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"]
        + (["name=rootless"] if os.geteuid() != 0 else []),
        "Warnings": [],
    }
    return web.json_response(data)


def _host_id() -> str:
    try:
        with open("/etc/machine-id", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return socket.gethostname()


def _now() -> str:
    from datetime import datetime

    return datetime.now().astimezone().isoformat()


def _event_matches(event: Any, wanted: dict[str, list[str]]) -> bool:
    attrs = event.attributes

    def any_of(key: str, test: Any) -> bool:
        return key not in wanted or any(test(v) for v in wanted[key])

    def label(spec: str) -> bool:
        key, eq, value = spec.partition("=")
        return key in attrs and (not eq or attrs[key] == value)

    def named(kind: str) -> Any:
        return lambda v: event.type == kind and (event.id.startswith(v)
                                                 or attrs.get("name") == v)

    return (any_of("type", lambda v: event.type == v)
            and any_of("event", lambda v: event.action == v
                       or event.action.split(":", 1)[0] == v)
            and any_of("container", named("container"))
            and any_of("network", named("network"))
            and any_of("volume", named("volume"))
            and any_of("image", lambda v: attrs.get("image") == v
                       or (event.type == "image" and (event.id == v or attrs.get("name") == v)))
            and any_of("label", label)
            and any_of("scope", lambda v: v == "local"))


def event_json(event: Any) -> dict[str, Any]:
    """One event as dockerd streams it (with the old status/id/from for API < 1.22)."""
    record: dict[str, Any] = {}
    if event.type == "container":
        record.update(status=event.action, id=event.id,
                      **{"from": event.attributes.get("image", "")})
    record.update(Type=event.type, Action=event.action,
                  Actor={"ID": event.id, "Attributes": dict(event.attributes)},
                  scope="local", time=event.time_ns // 1_000_000_000, timeNano=event.time_ns)
    return record


@routes.get("/events")
async def events(request: web.Request) -> web.StreamResponse:
    wanted = filters(request, EVENT_FILTERS)
    since = request.query.get("since", "")
    until = request.query.get("until", "")
    since_ns = parse_timestamp(since) if since else None
    until_ns = parse_timestamp(until) if until else None
    stream = engine_of(request).events.stream(since_ns=since_ns, until_ns=until_ns)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        async for event in stream:
            if _event_matches(event, wanted):
                await response.write(json_line(event_json(event)))
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    await response.write_eof()
    return response

