"""``skiff compose config/ps/ls/images/top/port``: looking at a project."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from app.cli.command import Command, Context
from app.cli.compose.project import project_of, runner_of
from app.cli.options import UsageError
from app.cli.output import Formatter, ellipsis, format_ports, since, tabulate
from app.cli.top import write_process_table
from engine import COMPOSE_PROJECT as PROJECT
from engine import COMPOSE_SERVICE as SERVICE
from engine import render_yaml, status_text

__all__ = ["COMMANDS"]


def _b_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="yaml", choices=("yaml", "json"),
                   help="Format the output")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="Only validate the configuration, don't print anything")
    p.add_argument("--services", action="store_true", help="Print the service names")
    p.add_argument("--volumes", action="store_true", help="Print the volume names")
    p.add_argument("--profiles", action="store_true", help="Print the profile names")
    p.add_argument("service_names", nargs="*", metavar="SERVICE")


async def cmd_config(ctx: Context) -> int:
    args = ctx.args
    project = project_of(ctx)
    if args.quiet:
        return 0
    if args.services:
        ctx.out.write("".join(f"{s}\n" for s in project.order()))
        return 0
    if args.volumes:
        ctx.out.write("".join(f"{v}\n" for v in sorted(project.volumes)))
        return 0
    if args.profiles:
        names = {p for s in [*project.services.values(), *project.disabled.values()]
                 for p in s.get("profiles") or []}
        ctx.out.write("".join(f"{p}\n" for p in sorted(names)))
        return 0
    model = project.to_dict()
    if args.service_names:
        wanted = set(project.order(args.service_names))
        model["services"] = {k: v for k, v in model["services"].items() if k in wanted}
    if args.format == "json":
        ctx.out.write(json.dumps(model, indent=2) + "\n")
    else:
        ctx.out.write(render_yaml(model))
    return 0


PS_HEADERS = {"Name": "NAME", "Image": "IMAGE", "Command": "COMMAND", "Service": "SERVICE",
              "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "ID": "CONTAINER ID",
              "State": "STATE", "Project": "PROJECT", "Health": "HEALTH"}
PS_TABLE = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t" \
    "{{.Status}}\t{{.Ports}}"


def _b_ps(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Show all stopped containers "
                   "(including those created by the run command)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display IDs")
    p.add_argument("--services", action="store_true", help="Display services")
    p.add_argument("--format", default="table", help="Format the output. Values: [table | "
                   "json]")
    p.add_argument("--status", action="append", default=[], help="Filter services by status")
    p.add_argument("services_", nargs="*", metavar="SERVICE")


async def _row(ctx: Context, container: Any, now: float) -> dict[str, Any]:
    config = container.config
    ports: dict[str, Any] = {}
    if container.state.running and config.ports:
        ports = await ctx.engine.containers.port(container.id)
    command = " ".join((await ctx.engine.containers.inspect(container.id)).effective.args)
    health = container.state.health
    return {
        "ID": container.id[:12], "Name": container.name, "Names": container.name,
        "Image": config.image, "Command": f'"{ellipsis(command, 20)}"',
        "Project": config.labels.get(PROJECT, ""), "Service": config.labels.get(SERVICE, ""),
        "RunningFor": since(container.created, now), "CreatedAt": container.created,
        "State": container.state.status.value, "Status": status_text(container.state, now),
        "Health": health.status if health else "", "ExitCode": container.state.exit_code,
        "Ports": format_ports(ports), "Labels": ",".join(f"{k}={v}" for k, v in
                                                        sorted(config.labels.items())),
        "Publishers": [{"URL": b.get("HostIp", ""), "TargetPort": int(key.split("/")[0]),
                        "PublishedPort": int(b.get("HostPort") or 0),
                        "Protocol": key.split("/")[1]}
                       for key, bindings in ports.items() for b in bindings or []],
    }


async def cmd_ps(ctx: Context) -> int:
    args = ctx.args
    runner = runner_of(ctx)
    containers = await runner.containers(all=args.all or bool(args.status),
                                         oneoff=args.all, services=args.services_)
    if args.status:
        containers = [c for c in containers if c.state.status.value in args.status]
    if args.services:
        ctx.out.write("".join(f"{s}\n" for s in dict.fromkeys(
            c.config.labels.get(SERVICE, "") for c in containers)))
        return 0
    if args.quiet:
        ctx.out.write("".join(f"{c.id}\n" for c in containers))
        return 0
    now = time.time()
    rows = [await _row(ctx, c, now) for c in containers]
    if args.format == "json":
        ctx.out.write("".join(json.dumps(r) + "\n" for r in rows))
        return 0
    fmt = PS_TABLE if args.format == "table" else args.format
    Formatter(fmt, PS_HEADERS).write(rows, ctx.out)
    return 0


def _b_ls(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Show all stopped Compose projects")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display project names")
    p.add_argument("--format", default="table", choices=("table", "json"),
                   help="Format the output")


async def cmd_ls(ctx: Context) -> int:
    args = ctx.args
    projects: dict[str, dict[str, Any]] = {}
    for container in await ctx.engine.containers.list(all=True):
        labels = container.config.labels
        name = labels.get(PROJECT)
        if not name:
            continue
        entry = projects.setdefault(name, {"states": {}, "files": labels.get(
            "com.docker.compose.project.config_files", "")})
        state = container.state.status.value
        entry["states"][state] = entry["states"].get(state, 0) + 1
    rows = []
    for name in sorted(projects):
        states = projects[name]["states"]
        if not args.all and "running" not in states:
            continue
        status = ", ".join(f"{s}({n})" for s, n in sorted(states.items()))
        rows.append({"Name": name, "Status": status, "ConfigFiles": projects[name]["files"]})
    if args.quiet:
        ctx.out.write("".join(f"{r['Name']}\n" for r in rows))
    elif args.format == "json":
        ctx.out.write(json.dumps(rows) + "\n")
    else:
        lines = ["NAME\tSTATUS\tCONFIG FILES",
                 *(f"{r['Name']}\t{r['Status']}\t{r['ConfigFiles']}" for r in rows)]
        ctx.out.write("".join(line + "\n" for line in tabulate(lines)))
    return 0


def _b_services(p: argparse.ArgumentParser) -> None:
    p.add_argument("services", nargs="*", metavar="SERVICE")


async def cmd_images(ctx: Context) -> int:
    from engine import human_size, split_familiar

    runner = runner_of(ctx)
    lines = ["CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE"]
    for container in await runner.containers(all=True, services=ctx.args.services):
        image = await ctx.engine.images.get(container.config.image_id)
        repository, tag, _ = split_familiar(container.config.image)
        lines.append(f"{container.name}\t{repository}\t{tag or 'latest'}\t"
                     f"{image.id.removeprefix('sha256:')[:12]}\t{human_size(image.size)}")
    ctx.out.write("".join(line + "\n" for line in tabulate(lines)))
    return 0


async def cmd_top(ctx: Context) -> int:
    runner = runner_of(ctx)
    for container in await runner.containers(all=False, services=ctx.args.services):
        ctx.out.write(f"{container.name}\n")
        table = await ctx.engine.containers.ps(container.id)
        write_process_table(ctx.out, table.titles, table.processes, min_width=5)
        ctx.out.write("\n")
    return 0


def _b_port(p: argparse.ArgumentParser) -> None:
    p.add_argument("--protocol", default="tcp", help="tcp or udp")
    p.add_argument("--index", type=int, default=1, help="Index of the container if service "
                   "has multiple replicas")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("private_port", metavar="PRIVATE_PORT")


async def cmd_port(ctx: Context) -> int:
    args = ctx.args
    runner = runner_of(ctx)
    containers = await runner.containers(all=False, services=[args.service])
    if len(containers) < args.index:
        raise UsageError(f"service \"{args.service}\" is not running")
    ports = await ctx.engine.containers.port(containers[args.index - 1].id)
    bindings = ports.get(f"{args.private_port}/{args.protocol}") or []
    if not bindings:
        raise UsageError(f"no port {args.private_port}/{args.protocol} for container "
                         f"{containers[args.index - 1].name}", status=1)
    first = bindings[0]
    ctx.out.write(f"{first.get('HostIp') or '0.0.0.0'}:{first.get('HostPort')}\n")
    return 0


COMMANDS = [
    Command("config", "Parse, resolve and render compose file in canonical format", _b_config,
            cmd_config, "[SERVICE...]", aliases=("convert",), needs_engine=False),
    Command("ps", "List containers", _b_ps, cmd_ps, "[SERVICE...]"),
    Command("ls", "List running compose projects", _b_ls, cmd_ls),
    Command("images", "List images used by the created containers", _b_services, cmd_images,
            "[SERVICE...]"),
    Command("top", "Display the running processes", _b_services, cmd_top, "[SERVICE...]"),
    Command("port", "Print the public port for a port binding", _b_port, cmd_port,
            "SERVICE PRIVATE_PORT"),
]
