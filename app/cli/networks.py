"""Network commands: network create, ls, inspect, rm, connect, disconnect and prune."""

from __future__ import annotations

import argparse

from app.cli.command import Command, Context
from app.cli.options import UsageError
from app.cli.output import Formatter, inspect_each, remove_each
from app.cli.prune import confirmed
from engine import SkiffError, network_subnets, pair_flags

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "MANAGEMENT", "network_row"]

NETWORKS_FORMAT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
NETWORK_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                   "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
                   "CreatedAt": "CREATED AT"}
PREDEFINED = ("bridge", "host", "none")


def network_row(network: dict[str, Any], trunc: bool = True) -> dict[str, Any]:
    ident = str(network.get("Id", ""))
    labels = network.get("Labels") or {}
    return {"CreatedAt": str(network.get("Created", "")),
            "Driver": str(network.get("Driver", "")),
            "ID": ident[:12] if trunc else ident,
            "IPv6": "true" if network.get("EnableIPv6") else "false",
            "Internal": "true" if network.get("Internal") else "false",
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
            "Name": str(network.get("Name", "")),
            "Scope": str(network.get("Scope", "local"))}


async def cmd_create(ctx: Context) -> int:
    args = ctx.args
    if args.driver not in ("", "bridge"):
        raise UsageError(f"network driver {args.driver!r} is not supported: Skiff creates "
                         "bridge networks")
    labels = dict(label.partition("=")[::2] for label in args.label)
    if any("=" not in item for item in args.aux_address):
        raise UsageError("invalid --aux-address: expected NAME=ADDRESS")
    aux = dict(item.split("=", 1) for item in args.aux_address)
    subnets = network_subnets(pair_flags(args.subnet, args.gateway, args.ip_range, aux),
                              args.ipv6)
    network = await ctx.engine.networks.create(args.name, labels=labels,
                                              internal=args.internal, subnets=subnets)
    ctx.out.write(network.id + "\n")
    return 0


def _filter(networks: list[dict[str, Any]], items: list[str]) -> list[dict[str, Any]]:
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item!r}")
        if key == "name":
            networks = [n for n in networks if value in str(n.get("Name", ""))]
        elif key == "id":
            networks = [n for n in networks if str(n.get("Id", "")).startswith(value)]
        elif key == "driver":
            networks = [n for n in networks if n.get("Driver") == value]
        elif key == "type":
            if value not in ("custom", "builtin"):
                raise UsageError(f"invalid filter 'type={value}': use custom or builtin")
            networks = [n for n in networks
                        if (n.get("Name") in PREDEFINED) == (value == "builtin")]
        elif key == "label":  # label=KEY or label=KEY=VALUE, as docker matches them
            label, has_value, wanted = value.partition("=")
            networks = [n for n in networks if label in (n.get("Labels") or {})
                        and (not has_value or n["Labels"][label] == wanted)]
        else:
            raise UsageError(f"invalid filter '{key}': use name, id, driver, label or type")
    return networks


async def cmd_ls(ctx: Context) -> int:
    args = ctx.args
    networks = _filter([n.docker_json() for n in await ctx.engine.networks.list()],
                       args.filter)
    fmt = "{{.ID}}" if args.quiet else (args.format or NETWORKS_FORMAT)
    rows = [network_row(n, trunc=not args.no_trunc) for n in networks]
    Formatter(fmt, NETWORK_HEADERS).write(rows, ctx.out)
    return 0


async def cmd_inspect(ctx: Context) -> int:
    async def document(name: str) -> dict[str, Any]:
        return (await ctx.engine.networks.inspect(name)).docker_json()

    return await inspect_each(ctx, ctx.args.networks, document)


async def cmd_rm(ctx: Context) -> int:
    return await remove_each(ctx, ctx.args.networks, lambda name: ctx.engine.networks.remove(name))


async def cmd_connect(ctx: Context) -> int:
    args = ctx.args
    await ctx.engine.networks.connect(args.network, args.container, aliases=args.alias,
                                     ip=args.ip, ip6=args.ip6, links=args.link,
                                     link_local_ips=args.link_local_ip)
    return 0


async def cmd_disconnect(ctx: Context) -> int:
    await ctx.engine.networks.disconnect(ctx.args.network, ctx.args.container)
    return 0


async def cmd_prune(ctx: Context) -> int:
    if not confirmed(ctx, "WARNING! This will remove all custom networks not used by at least "
                          "one container."):
        return 0
    removed: list[str] = []
    for network in await ctx.engine.networks.list():
        name = network.name
        if name in PREDEFINED or network.containers:
            continue
        try:
            await ctx.engine.networks.remove(name)
        except SkiffError as exc:
            ctx.daemon_error(exc)
            continue
        removed.append(name)
    if removed:
        ctx.out.write("Deleted Networks:\n" + "".join(f"{name}\n" for name in removed))
    return ctx.status


def _b_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--driver", default="", help='Driver to manage the Network ("bridge")')
    p.add_argument("--subnet", action="append", default=[],
                   help="Subnet in CIDR format that represents a network segment")
    p.add_argument("--gateway", action="append", default=[],
                   help="IPv4 or IPv6 Gateway for the master subnet")
    p.add_argument("--ip-range", action="append", default=[],
                   help="Allocate container ip from a sub-range")
    p.add_argument("--aux-address", action="append", default=[], metavar="NAME=ADDRESS",
                   help="Auxiliary IPv4 or IPv6 addresses used by Network driver")
    p.add_argument("--ipv6", action="store_true", help="Enable or disable IPv6 networking")
    p.add_argument("--internal", action="store_true",
                   help="Restrict external access to the network")
    p.add_argument("--label", action="append", default=[],
                   help="Set metadata on a network")
    p.add_argument("name", metavar="NETWORK")


def _b_ls(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="Provide filter values (e.g. 'driver=bridge')")
    p.add_argument("--format", default=None, help="Format output using a custom template")
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate the output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display network IDs")


def _b_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Format output using a custom template")
    p.add_argument("networks", nargs="+", metavar="NETWORK")


def _b_rm(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", metavar="NETWORK")


def _b_connect(p: argparse.ArgumentParser) -> None:
    p.add_argument("--alias", action="append", default=[],
                   help="Add network-scoped alias for the container")
    p.add_argument("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
    p.add_argument("--ip6", default="", help="IPv6 address (e.g., 2001:db8::33)")
    p.add_argument("--link", action="append", default=[], metavar="NAME[:ALIAS]",
                   help="Add link to another container")
    p.add_argument("--link-local-ip", action="append", default=[], metavar="IP",
                   help="Add a link-local address for the container")
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")


def _b_disconnect(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true",
                   help="Force the container to disconnect from a network")
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")


def _b_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


COMMANDS: list[Command] = []
MANAGEMENT: list[Command] = [
    Command("create", "Create a network", _b_create, cmd_create, "NETWORK"),
    Command("ls", "List networks", _b_ls, cmd_ls, aliases=("list",)),
    Command("inspect", "Display detailed information on one or more networks", _b_inspect,
            cmd_inspect, "NETWORK [NETWORK...]"),
    Command("rm", "Remove one or more networks", _b_rm, cmd_rm, "NETWORK [NETWORK...]",
            aliases=("remove",)),
    Command("connect", "Connect a container to a network", _b_connect, cmd_connect,
            "NETWORK CONTAINER"),
    Command("disconnect", "Disconnect a container from a network", _b_disconnect,
            cmd_disconnect, "NETWORK CONTAINER"),
    Command("prune", "Remove all unused networks", _b_prune, cmd_prune),
]
