"""Docker's host options of a container, read and checked once for the CLI, the
API and compose: --dns/--dns-search/--dns-option, --add-host, --cap-add/--cap-drop,
--ulimit, --sysctl, --device, --mac-address, --shm-size, --cpu-shares.

Pure. The syntaxes and the sentences are Docker's (moby's opts package and
its daemon's checks). The helper checks every value again against its
protocol's schema (engine/wire/containerspec.py), whose patterns are the
rules used here, and decides alone what a user may have: which sysctls,
devices and limits (engine/helper/runtime/hostlimits.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from engine.containers.config import ContainerConfig, DeviceMapping, Ulimit
from engine.errors import InvalidArgument
from engine.wire.containerspec import CAPABILITY, SYSCTL, ULIMITS

__all__ = [
    "check_host_options",
    "normalize_capabilities",
    "parse_device",
    "parse_extra_host",
    "parse_sysctl",
    "parse_ulimit",
]

_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\Z")
_HOST_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}\Z")
_DOMAIN = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252}[A-Za-z0-9_.])?\Z")
_DNS_OPTION = re.compile(r"^[A-Za-z0-9_-]{1,32}(:[0-9]{1,5})?\Z")


def parse_ulimit(text: str) -> Ulimit:
    """``nofile=1024`` or ``nofile=1024:2048`` (docker's go-units ParseUlimit)."""
    name, sep, values = text.partition("=")
    if not sep:
        raise InvalidArgument(f"invalid ulimit argument: {text}")
    if name not in ULIMITS:
        raise InvalidArgument(f"invalid ulimit type: {name}")
    soft_text, _, hard_text = values.partition(":")
    try:
        soft = int(soft_text)
        hard = int(hard_text) if hard_text else soft
    except ValueError:
        raise InvalidArgument(f"invalid ulimit argument: {text}") from None
    return check_ulimit(Ulimit(name, soft, hard))


def check_ulimit(limit: Ulimit) -> Ulimit:
    if limit.name not in ULIMITS:
        raise InvalidArgument(f"invalid ulimit type: {limit.name}")
    for value in (limit.soft, limit.hard):
        if value < -1:
            raise InvalidArgument(f"invalid ulimit argument: {limit.name}={value}: use -1 "
                                  "for unlimited")
    if limit.hard != -1 and (limit.soft == -1 or limit.soft > limit.hard):
        raise InvalidArgument(f"ulimit soft limit must be less than or equal to hard limit: "
                              f"{limit.soft} > {limit.hard}")
    return limit


def parse_device(text: str) -> DeviceMapping:
    """``/dev/x``, ``/dev/x:/dev/y``, ``/dev/x:rw`` or ``/dev/x:/dev/y:rwm`` (docker's
    parseDevice)."""
    parts = text.split(":")
    permissions = "rwm"
    if len(parts) > 1 and _is_mode(parts[-1]):
        permissions = parts.pop()
    if len(parts) > 2 or not parts[0]:
        raise InvalidArgument(f"invalid device specification: {text}")
    host = parts[0]
    inside = parts[1] if len(parts) == 2 and parts[1] else host
    return check_device(DeviceMapping(host, inside, permissions))


def _is_mode(text: str) -> bool:
    return bool(text) and len(set(text)) == len(text) and set(text) <= set("rwm")


def check_device(device: DeviceMapping) -> DeviceMapping:
    for path in (device.path_on_host, device.path_in_container):
        if not path.startswith("/"):
            raise InvalidArgument(f"{path} is not an absolute path")
    if not _is_mode(device.permissions):
        raise InvalidArgument(f"invalid device mode: {device.permissions}")
    return device


def parse_extra_host(text: str) -> str:
    """``host:ip`` or ``host=ip`` (Docker 25's form), kept as ``host:ip``; the IP may
    be ``host-gateway`` (the gateway of the container's network)."""
    sep = "=" if "=" in text else ":"
    name, found, address = text.partition(sep)
    if not found or not name or not address:
        raise InvalidArgument(f"bad format for add-host: {text!r}")
    if not _HOST_NAME.match(name):
        raise InvalidArgument(f"invalid hostname in add-host: {text!r}")
    address = address.strip("[]")
    if address != "host-gateway":
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            raise InvalidArgument(f"invalid IP address in add-host: {address!r}") from None
    return f"{name}:{address}"


def parse_sysctl(text: str) -> tuple[str, str]:
    """``name=value``: a sysctl of the container's own namespaces (docker's
    ValidateSysctl)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise InvalidArgument(f"invalid argument {text!r} for --sysctl: use name=value")
    _check_sysctl(name, value)
    return name, value


def _check_sysctl(name: str, value: str, network: str = "") -> None:
    if name == "kernel.hostname":
        raise InvalidArgument("sysctl 'kernel.hostname' is not allowed: use --hostname")
    if not re.match(SYSCTL, f"{name}={value}"):
        raise InvalidArgument(f"sysctl '{name}' is not allowed: a container sets only the "
                              "sysctls of its own namespaces (kernel.msg*, kernel.sem, "
                              "kernel.shm*, fs.mqueue.*, net.*)")
    if network == "host" and name.startswith("net."):
        raise InvalidArgument(f"sysctl '{name}' is not allowed in the host's network "
                              "namespace")


def normalize_capabilities(names: Iterable[str]) -> list[str]:
    """``net_admin`` → ``CAP_NET_ADMIN``, ``all`` → ``ALL`` (the daemon's normalisation)."""
    found = []
    for name in names:
        upper = name.strip().upper()
        if upper != "ALL" and not upper.startswith("CAP_"):
            upper = f"CAP_{upper}"
        if not re.match(CAPABILITY, upper):
            raise InvalidArgument(f'unknown capability: "{upper}"')
        if upper not in found:
            found.append(upper)
    return found


def parse_link_local_ip(text: str) -> str:
    """One of an endpoint's LinkLocalIPs, as dockerd checks them (any address)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidArgument(f"invalid link-local IP address: {text}") from None


def check_host_options(config: ContainerConfig) -> None:
    """Everything in the host options that the helper would refuse; InvalidArgument."""
    for server in config.dns:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise InvalidArgument(f"IP address is not correctly formatted: {server}") from None
    for domain in config.dns_search:
        if domain != "." and not _DOMAIN.match(domain):
            raise InvalidArgument(f"{domain} is not a valid domain")
    for option in config.dns_options:
        if not _DNS_OPTION.match(option):
            raise InvalidArgument(f"invalid DNS option {option!r}: use a word, or word:N")
    for host in config.extra_hosts:
        parse_extra_host(host)
    normalize_capabilities([*config.cap_add, *config.cap_drop])
    if config.shm_size is not None and config.shm_size < 0:
        raise InvalidArgument("SHM size can not be less than 0")
    shares = config.resources.cpu_shares
    if shares is not None and shares < 0:
        raise InvalidArgument(f"invalid CPU shares {shares}: use a positive number")
    for limit in config.ulimits:
        check_ulimit(limit)
    if len({u.name for u in config.ulimits}) != len(config.ulimits):
        raise InvalidArgument("a ulimit is given twice")
    for name, value in config.sysctls.items():
        _check_sysctl(name, value, config.network)
    for device in config.devices:
        check_device(device)
    if config.mac_address and not _MAC.match(config.mac_address):
        raise InvalidArgument(f"{config.mac_address} is not a valid mac address")
    if config.mac_address and config.network in ("host", "none"):
        raise InvalidArgument("conflicting options: mac-address and the network mode")
    for address in config.network_link_local_ips:
        parse_link_local_ip(address)
    if (config.network_links or config.network_link_local_ips) and config.network in (
            "host", "none"):
        raise InvalidArgument(f"conflicting options: {config.network} type networking has "
                              "no endpoint for links or link-local IPs")
