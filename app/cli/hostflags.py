"""docker's host-option flags for create and run: --dns, --dns-search, --dns-option,
--add-host, --cap-add, --cap-drop, --init, --read-only, --shm-size, --ulimit,
--sysctl, --cpu-shares, --device, --mac-address and --group-add.

Each value is read by the engine's rule (engine/containers/hostopts.py); a bad
one is a usage error in docker's words, before the engine is opened.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeVar

from app.cli.options import UsageError, parse_memory
from engine import (
    InvalidArgument,
    parse_device,
    parse_extra_host,
    parse_sysctl,
    parse_ulimit,
)

__all__ = ["add_host_flags", "host_flags"]

T = TypeVar("T")


def add_host_flags(p: argparse.ArgumentParser) -> None:
    many = {"action": "append", "default": []}
    p.add_argument("--dns", **many, help="Set custom DNS servers")  # type: ignore[arg-type]
    p.add_argument("--dns-search", **many,  # type: ignore[arg-type]
                   help="Set custom DNS search domains")
    p.add_argument("--dns-option", "--dns-opt", **many,  # type: ignore[arg-type]
                   help="Set DNS options")
    p.add_argument("--add-host", **many, metavar="HOST:IP",  # type: ignore[arg-type]
                   help="Add a custom host-to-IP mapping (host:ip)")
    p.add_argument("--cap-add", **many, help="Add Linux capabilities")  # type: ignore[arg-type]
    p.add_argument("--cap-drop", **many,  # type: ignore[arg-type]
                   help="Drop Linux capabilities")
    p.add_argument("--init", action="store_true", default=None,
                   help="Run an init inside the container that forwards signals and reaps "
                        "processes")
    p.add_argument("--read-only", action="store_true",
                   help="Mount the container's root filesystem as read only")
    p.add_argument("--shm-size", default=None, help="Size of /dev/shm")
    p.add_argument("--ulimit", **many, help="Ulimit options")  # type: ignore[arg-type]
    p.add_argument("--sysctl", **many, help="Sysctl options")  # type: ignore[arg-type]
    p.add_argument("-c", "--cpu-shares", default=None,
                   help="CPU shares (relative weight)")
    p.add_argument("--device", **many,  # type: ignore[arg-type]
                   help="Add a host device to the container")
    p.add_argument("--mac-address", default="", help="Container MAC address (e.g., "
                   "92:d0:c6:0a:29:33)")
    p.add_argument("--group-add", **many,  # type: ignore[arg-type]
                   help="Add additional groups to join")


def _each(values: list[str], flag: str, parse: Callable[[str], T]) -> list[T]:
    found = []
    for text in values:
        try:
            found.append(parse(text))
        except InvalidArgument as exc:
            raise UsageError(f'invalid argument "{text}" for "{flag}" flag: {exc}') from None
    return found


def host_flags(args: argparse.Namespace) -> dict[str, Any]:
    """ContainerConfig's fields for these flags (``cpu_shares`` goes into Resources)."""
    shares_text = getattr(args, "cpu_shares", None)
    try:
        shares = int(shares_text) if shares_text is not None else None
    except ValueError:
        raise UsageError(f'invalid argument "{shares_text}" for "-c, --cpu-shares" flag: '
                         f'strconv.ParseInt: parsing "{shares_text}": invalid syntax') from None
    shm = parse_memory(args.shm_size, "--shm-size") if args.shm_size else None
    return {
        "dns": list(args.dns), "dns_search": list(args.dns_search),
        "dns_options": list(args.dns_option),
        "extra_hosts": _each(args.add_host, "--add-host", parse_extra_host),
        "cap_add": list(args.cap_add), "cap_drop": list(args.cap_drop),
        "init": args.init, "read_only": args.read_only, "shm_size": shm or None,
        "ulimits": _each(args.ulimit, "--ulimit", parse_ulimit),
        "sysctls": dict(_each(args.sysctl, "--sysctl", parse_sysctl)),
        "devices": _each(args.device, "--device", parse_device),
        "mac_address": args.mac_address,
        "group_add": list(args.group_add),
        "cpu_shares": shares or None,
    }
