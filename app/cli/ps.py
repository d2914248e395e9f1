"""skiff ps: docker's container list, its filters, columns and formats."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from app.cli.command import Context, UsageError
from app.cli.output import Formatter, created_at, ellipsis, format_ports, since
from engine import ContainerConfig, NotFound, Reader, merge_command, status_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PS_FORMAT = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
             "{{.Ports}}\t{{.Names}}")
PS_HEADERS = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
    "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS",
    "Networks": "NETWORKS", "LocalVolumes": "LOCAL VOLUMES",
}
PS_FILTERS = ("id", "name", "status", "label", "exited", "ancestor", "health")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def effective_command(config: ContainerConfig, run_config: dict[str, Any]) -> list[str]:
    """Entrypoint + Cmd as docker combines the image's with the overrides (the engine's merge)."""
    entrypoint, cmd = merge_command(config, run_config)
    return [*(entrypoint or []), *(cmd or [])]


def container_row(container: Any, run_config: dict[str, Any], ports: dict[str, Any] | None,
                  *, trunc: bool = True, now: float | None = None) -> dict[str, Any]:
    """One container as docker's ps formatter sees it (every field a string)."""
    config = container.config
    command = " ".join(effective_command(config, run_config))
    if trunc:
        command = ellipsis(command, 20)
    labels = ",".join(f"{k}={v}" for k, v in sorted(config.labels.items()))
    mounts = ",".join(ellipsis(m.source or m.target, 15) if trunc else (m.source or m.target)
                      for m in config.mounts)
    local_volumes = sum(1 for m in config.mounts if m.type == "volume")
    network = config.network if config.network != "default" else "bridge"
    return {
        "Command": f'"{command}"',
        "CreatedAt": created_at(container.created),
        "ID": container.id[:12] if trunc else container.id,
        "Image": config.image,
        "Labels": labels,
        "LocalVolumes": str(local_volumes),
        "Mounts": mounts,
        "Names": container.name,
        "Networks": network,
        "Ports": format_ports(ports),
        "RunningFor": since(container.created, now),
        "Size": "0B",
        "State": str(container.state.status.value),
        "Status": status_text(container.state, now),
    }


def parse_ps_filters(items: Sequence[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        key = key.strip().lower()
        if key not in PS_FILTERS:
            raise UsageError(f"invalid filter '{key}': use one of {', '.join(PS_FILTERS)}")
        if key == "status" and value not in STATUSES:
            raise UsageError(f"invalid filter 'status={value}': use one of "
                             f"{', '.join(STATUSES)}")
        if key == "health" and value not in ("starting", "healthy", "unhealthy", "none"):
            raise UsageError(f"Unrecognised filter value for health: {value}")
        if key == "exited" and not value.lstrip("-").isdigit():
            raise UsageError(f"invalid filter 'exited={value}': the value must be a number")
        filters.setdefault(key, []).append(value)
    return filters


def _matches(container: Any, filters: dict[str, list[str]]) -> bool:
    import re

    def any_of(key: str, test: Callable[[str], bool]) -> bool:
        return key not in filters or any(test(v) for v in filters[key])

    def name_match(pattern: str) -> bool:
        try:
            regex = re.compile(pattern)
        except re.error:
            return pattern in container.name
        return bool(regex.search(container.name) or regex.search("/" + container.name))

    def label_match(spec: str) -> bool:
        key, eq, value = spec.partition("=")
        labels = container.config.labels
        return key in labels and (not eq or labels[key] == value)

    state = container.state
    config = container.config
    return (any_of("id", lambda v: container.id.startswith(v))
            and any_of("name", name_match)
            and any_of("status", lambda v: state.status.value == v)
            and any_of("label", label_match)
            and any_of("health", lambda v: (state.health.status if state.health and
                                            state.status.value == "running" else "none") == v)
            and any_of("exited", lambda v: state.status.value == "exited"
                       and state.exit_code == int(v))
            and any_of("ancestor", lambda v: v in (config.image, config.image_id)
                       or config.image_id.removeprefix("sha256:").startswith(
                           v.removeprefix("sha256:"))))


def _run_config(reader: Reader, cache: dict[str, dict[str, Any]], image_id: str
                ) -> dict[str, Any]:
    if image_id not in cache:
        try:
            cache[image_id] = reader.image(image_id).run_config
        except NotFound:
            cache[image_id] = {}
    return cache[image_id]


def _ports(reader: Reader, container: Any) -> dict[str, Any]:
    if not (container.config.ports or container.config.publish_all):
        return {}
    return reader.ports(container)


def cmd_ps(ctx: Context) -> int:
    """Reads the stores without the engine's event loop (engine.Reader): ps is the
    command typed most, and asyncio with the services was 60 % of its time."""
    args = ctx.args
    filters = parse_ps_filters(args.filter)
    last = 1 if args.latest else args.last
    show_all = args.all or last > 0 or "status" in filters or "exited" in filters
    fmt = "{{.ID}}" if args.quiet else (args.format or PS_FORMAT)
    formatter = Formatter(fmt, PS_HEADERS)
    with Reader() as reader:
        containers = reader.containers(all=show_all)
        if filters:
            containers = [c for c in containers if _matches(c, filters)]
        containers.sort(key=lambda c: c.created, reverse=True)
        if last > 0:
            containers = containers[:last]
        cache: dict[str, dict[str, Any]] = {}
        now = time.time()
        rows = []
        for container in containers:
            run_config = _run_config(reader, cache, container.config.image_id)
            ports = _ports(reader, container) if not args.quiet else {}
            rows.append(container_row(container, run_config, ports, trunc=not args.no_trunc,
                                      now=now))
        hidden = reader.hidden_auto_removes
    formatter.write(rows, ctx.out)
    if hidden:
        _remove_overdue()
    return 0


def _remove_overdue() -> None:
    """Exited --rm containers whose client is gone: the engine's list removes those
    past its grace, as any other listing would (rare: their client removes them)."""
    import asyncio

    from engine import Engine

    async def listing() -> None:
        async with Engine() as engine:
            await engine.containers.list(all=True)

    asyncio.run(listing())


def build_ps(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true",
                   help="Show all containers (default shows just running)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-n", "--last", type=int, default=-1,
                   help="Show n last created containers (includes all states)")
    p.add_argument("-l", "--latest", action="store_true",
                   help="Show the latest created container (includes all states)")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Filter output based on conditions provided")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
