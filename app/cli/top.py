"""skiff top and skiff port: a running container's processes and published ports."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from app.cli.command import Context
from app.cli.output import tabulate


async def cmd_top(ctx: Context) -> int:
    """docker's top: the host's ps with the given options (``-ef`` by default),
    this container's rows only."""
    table = await ctx.engine.containers.ps(ctx.args.container, " ".join(ctx.args.ps_args))
    write_process_table(ctx.out, table.titles, table.processes)
    return 0


def write_process_table(out: TextIO, titles: list[str], processes: list[list[str]],
                        min_width: int = 20) -> None:
    """Aligned as docker's tabwriter aligns it (compose's is narrower)."""
    lines = ["\t".join(titles), *("\t".join(row) for row in processes)]
    out.write("".join(line + "\n" for line in tabulate(lines, min_width=min_width)))


def _host_address(binding: dict[str, Any]) -> str:
    host_ip = binding.get("HostIp") or "0.0.0.0"
    if ":" in host_ip:
        host_ip = f"[{host_ip}]"
    return f"{host_ip}:{binding.get('HostPort', '')}"


async def cmd_port(ctx: Context) -> int:
    args = ctx.args
    await ctx.engine.containers.get(args.container)  # "No such container" before anything else
    ports: dict[str, Any] = await ctx.engine.containers.port(args.container) or {}
    if args.private:
        key = args.private if "/" in args.private else f"{args.private}/tcp"
        bindings = ports.get(key)
        if not bindings:
            ctx.error(f"Error: No public port '{key}' published for {args.container}")
            return 1
        for binding in bindings:
            ctx.out.write(_host_address(binding) + "\n")
        return 0

    def order(key: str) -> tuple[int, str]:
        number, _, proto = key.partition("/")
        return (int(number) if number.isdigit() else 0, proto)

    for key in sorted(ports, key=order):
        for binding in ports[key] or []:
            ctx.out.write(f"{key} -> {_host_address(binding)}\n")
    return 0



def build_top(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("ps_args", nargs=argparse.REMAINDER, metavar="[ps OPTIONS]")


def build_port(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("private", nargs="?", metavar="PRIVATE_PORT[/PROTO]")
