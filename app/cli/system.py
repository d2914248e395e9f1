"""System commands: version, info and events; ``system`` adds df and prune.

``events`` prints one line an event in docker's form
(``2024-01-02T03:04:05.000000000+01:00 container start ID (image=busybox, name=web)``)
and follows until Ctrl-C or ``--until``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Sequence

from app import VERSION
from app.cli.command import Command, CommandRef, Context, UsageError
from app.cli.options import parse_time
from engine import bytes_size, format_rfc3339, host_memory, os_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "MANAGEMENT", "event_line", "event_record", "parse_event_filters",
           "version_line"]

EVENT_FILTERS = ("container", "event", "image", "label", "type")


def _arch() -> str:
    import platform

    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def version_line() -> str:
    return f"Skiff version {VERSION}"


def _version_data() -> dict[str, Any]:
    import platform

    side = {"Version": VERSION, "PythonVersion": platform.python_version(),
            "Os": "linux", "Arch": _arch(), "KernelVersion": platform.release()}
    return {"Client": dict(side), "Server": {**side, "Engine": "skiff"}}


def _print_template(ctx: Context, fmt: str, data: Any) -> None:
    from app.cli.template import Template

    ctx.out.write(Template(fmt.replace("\\t", "\t").replace("\\n", "\n")).render(data) + "\n")


def cmd_version(ctx: Context) -> int:
    data = _version_data()
    if ctx.args.format:
        _print_template(ctx, ctx.args.format, data)
        return 0
    client = data["Client"]
    lines = ["Client:",
             f" Version:           {client['Version']}",
             f" Python version:    {client['PythonVersion']}",
             f" OS/Arch:           {client['Os']}/{client['Arch']}",
             "",
             "Engine:",
             f" Version:           {client['Version']}",
             " Engine:            skiff (in-process, with a privileged helper)",
             f" Kernel Version:    {client['KernelVersion']}",
             f" OS/Arch:           {client['Os']}/{client['Arch']}"]
    ctx.out.write("\n".join(lines) + "\n")
    return 0




async def cmd_info(ctx: Context) -> int:
    import platform

    containers = await ctx.engine.containers.list(all=True)
    images = await ctx.engine.images.list()
    states = [c.state.status.value for c in containers]
    data: dict[str, Any] = {
        "Containers": len(containers),
        "ContainersRunning": states.count("running"),
        "ContainersPaused": states.count("paused"),
        "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
        "Images": len(images),
        "ServerVersion": VERSION,
        "Driver": "overlay",
        "KernelVersion": platform.release(),
        "OperatingSystem": os_name(),
        "OSType": "linux",
        "Architecture": platform.machine(),
        "NCPU": os.cpu_count() or 0,
        "MemTotal": host_memory(),
        "Name": platform.node(),
        "SkiffRootDir": os.environ.get("SKIFF_ROOT", ""),
    }
    if ctx.args.format:
        _print_template(ctx, ctx.args.format, data)
        return 0
    lines = [
        "Client:",
        f" Version:    {VERSION}",
        "",
        "Server:",
        f" Containers: {data['Containers']}",
        f"  Running: {data['ContainersRunning']}",
        f"  Paused: {data['ContainersPaused']}",
        f"  Stopped: {data['ContainersStopped']}",
        f" Images: {data['Images']}",
        f" Server Version: {data['ServerVersion']}",
        f" Storage Driver: {data['Driver']}",
        f" Kernel Version: {data['KernelVersion']}",
        f" Operating System: {data['OperatingSystem']}",
        f" OSType: {data['OSType']}",
        f" Architecture: {data['Architecture']}",
        f" CPUs: {data['NCPU']}",
        f" Total Memory: {bytes_size(data['MemTotal'])}",
        f" Name: {data['Name']}",
    ]
    if data["SkiffRootDir"]:
        lines.append(f" Skiff Root Dir: {data['SkiffRootDir']}")
    ctx.out.write("\n".join(lines) + "\n")
    return 0


def parse_event_filters(items: Sequence[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        if key not in EVENT_FILTERS:
            raise UsageError(f"invalid filter '{key}': use one of {', '.join(EVENT_FILTERS)}")
        filters.setdefault(key, []).append(value)
    return filters


def _event_matches(event: Any, filters: dict[str, list[str]]) -> bool:
    attrs = event.attributes

    def any_of(key: str, test: Any) -> bool:
        return key not in filters or any(test(v) for v in filters[key])

    def label(spec: str) -> bool:
        key, eq, value = spec.partition("=")
        return key in attrs and (not eq or attrs[key] == value)

    return (any_of("type", lambda v: event.type == v)
            # docker: health_status, exec_create and exec_start match with any ": detail"
            and any_of("event", lambda v: event.action == v or (
                v in ("health_status", "exec_create", "exec_start")
                and event.action.startswith(f"{v}:")))
            and any_of("container", lambda v: event.type == "container"
                       and (event.id.startswith(v) or attrs.get("name") == v))
            and any_of("image", lambda v: attrs.get("image") == v
                       or (event.type == "image" and (event.id == v or attrs.get("name") == v)))
            and any_of("label", label))


def event_record(event: Any) -> dict[str, Any]:
    """The event as docker's ``{{json .}}`` shows it."""
    record: dict[str, Any] = {}
    if event.type == "container":
        record.update(status=event.action, id=event.id, **{"from": event.attributes.get(
            "image", "")})
    record.update(Type=event.type, Action=event.action,
                  Actor={"ID": event.id, "Attributes": dict(event.attributes)},
                  scope="local", time=event.time_ns // 1_000_000_000, timeNano=event.time_ns)
    return record


def event_line(event: Any) -> str:
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(event.attributes.items()))
    line = f"{format_rfc3339(event.time_ns, local=True)} {event.type} {event.action} {event.id}"
    return f"{line} ({attrs})" if attrs else line


async def cmd_events(ctx: Context) -> int:
    args = ctx.args
    filters = parse_event_filters(args.filter)
    now = time.time()
    since_ns = parse_time(args.since, "--since", now) if args.since else None
    until_ns = parse_time(args.until, "--until", now) if args.until else None
    from app.cli.template import Template

    template = (Template(args.format.replace("\\t", "\t").replace("\\n", "\n"))
                if args.format else None)
    stream = ctx.engine.events.stream(since_ns=since_ns, until_ns=until_ns)  # --until ends it
    try:
        async for event in stream:
            if not _event_matches(event, filters):
                continue
            if template is not None:
                ctx.out.write(template.render(event_record(event)) + "\n")
            else:
                ctx.out.write(event_line(event) + "\n")
            ctx.out.flush()
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    return 0


def _b_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")


def _b_events(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Filter output based on conditions provided")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("--since", default="", help="Show all events created since timestamp")
    p.add_argument("--until", default="", help="Stream events until this timestamp")


_SYSTEM_DF = CommandRef("df", "Show Skiff disk usage", "app.cli.diskusage:SYSTEM_DF")
_SYSTEM_PRUNE = CommandRef("prune", "Remove unused data", "app.cli.prune:SYSTEM_PRUNE")
_SERVE = CommandRef("serve", "Serve the Docker Engine API (for docker, docker-py, compose)",
                    "app.cli.serve:SERVE")
_INFO = Command("info", "Display system-wide information", _b_format, cmd_info)
_EVENTS = Command("events", "Get real time events from the engine", _b_events, cmd_events)

COMMANDS: list[Command | CommandRef] = [
    Command("version", "Show the Skiff version information", _b_format, cmd_version,
            needs_engine=False),
    _INFO,
    _EVENTS,
    _SERVE,
]

#: ``skiff system ...``, as docker's: df, events, info, prune.
MANAGEMENT: list[Command | CommandRef] = [_SYSTEM_DF, _EVENTS, _INFO, _SYSTEM_PRUNE]
