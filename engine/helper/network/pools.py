"""The private address pools networks take their subnets from (Docker's
``default-address-pools``), and the root-owned file that configures them.

A pool is a base range split into subnets of one size: automatic subnets come
from the pools in order, and a non-root user may only ever use a subnet inside
one (see :mod:`.policy`). Without a file the pools are Docker's defaults plus
Skiff's own default bridge range::

    10.88.0.0/16   split in /16   (Skiff's default network "bridge")
    172.17.0.0/16 .. 172.31.0.0/16   split in /16
    192.168.0.0/16 split in /20
    fdXX:XXXX:XXXX::/48 split in /64   (IPv6: a unique local prefix of this host's)

The IPv6 pool is what Docker takes when none is configured: a unique local /48
whose 40-bit global ID comes from the host's identity (``/etc/machine-id``), so
two hosts' networks do not collide (RFC 4193) and one host's stay the same.

Root changes them in ``/etc/skiff/networks.json`` (read at every use, so no
restart is needed), in Docker's daemon.json words::

    {"default-address-pools": [{"base": "10.200.0.0/16", "size": 24},
                               {"base": "fd12:3456:789a::/48", "size": 64}]}

A file that names no IPv6 pool keeps the default one (and one with IPv6 pools
only keeps the IPv4 defaults), as Docker does. ``"ipv6": true`` (with
``"fixed-cidr-v6"``, else a /64 of the pool) gives the default network "bridge"
IPv6 too, as in Docker's daemon.json; it applies when no container is on it.

The file must belong to root and be writable by nobody else (nor its
directory): the pools are what keeps users' networks off public ranges, so a
file a user could edit would be ignored at their wish. ``SKIFF_NETWORK_CONFIG``
names another file (tests; the helper's environment is root's own).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    collapse_addresses,
    ip_network,
    summarize_address_range,
)
from pathlib import Path
from typing import Any

from engine.errors import HelperError

__all__ = ["CONFIG", "DEFAULT_POOLS", "Pool", "config_path", "default_bridge_ipv6",
           "default_pools6", "describe", "inside", "load_config", "load_pools", "of_version",
           "parse_pools"]

CONFIG = Path("/etc/skiff/networks.json")
_MAX_POOLS = 256


Subnet = IPv4Network | IPv6Network
_MAX_SIZE = {4: 30, 6: 124}  # the smallest subnets: two containers and a gateway


@dataclass(frozen=True)
class Pool:
    base: Subnet
    size: int  # prefix length of the subnets handed out

    def subnets(self) -> Iterator[Subnet]:
        return self.base.subnets(new_prefix=self.size)


DEFAULT_POOLS: tuple[Pool, ...] = (
    Pool(IPv4Network("10.88.0.0/16"), 16),
    *(Pool(IPv4Network(f"172.{second}.0.0/16"), 16) for second in range(17, 32)),
    Pool(IPv4Network("192.168.0.0/16"), 20),
)


def default_pools6(machine_id: Path = Path("/etc/machine-id")) -> tuple[Pool, ...]:
    """The host's own unique local /48, split in /64 (Docker's default for IPv6)."""
    try:
        identity = machine_id.read_bytes().strip()
    except OSError:
        identity = b""
    if not identity:
        identity = os.uname().nodename.encode()
    global_id = hashlib.sha256(b"skiff-ipv6-pool:" + identity).digest()[:5]
    base = IPv6Network((IPv6Address(b"\xfd" + global_id + bytes(10)), 48))
    return (Pool(base, 64),)


def of_version(pools: Sequence[Pool], version: int) -> tuple[Pool, ...]:
    """The pools of one IP version (4 or 6)."""
    return tuple(pool for pool in pools if pool.base.version == version)


def config_path() -> Path:
    return Path(os.environ.get("SKIFF_NETWORK_CONFIG") or CONFIG)


def parse_pools(data: object, where: str = "the network configuration") -> tuple[Pool, ...]:
    """Pools from the file's JSON, IPv4 then IPv6; the defaults of a version it names
    none of."""
    if not isinstance(data, dict):
        raise HelperError(f"{where}: expected a JSON object")
    entries = data.get("default-address-pools")
    if entries is None:
        return (*DEFAULT_POOLS, *default_pools6())
    if not isinstance(entries, list) or not entries or len(entries) > _MAX_POOLS:
        raise HelperError(f"{where}: default-address-pools must be a list of 1 to "
                          f"{_MAX_POOLS} pools")
    pools = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("base"), str) \
                or isinstance(entry.get("size"), bool) or not isinstance(entry.get("size"), int):
            raise HelperError(f"{where}: each pool needs a base (\"10.200.0.0/16\") and a "
                              f"size (24): {json.dumps(entry)[:80]}")
        try:
            base = ip_network(entry["base"])
        except ValueError as exc:
            raise HelperError(f"{where}: invalid pool base {entry['base']!r}: {exc}") from None
        if not base.prefixlen <= entry["size"] <= _MAX_SIZE[base.version]:
            raise HelperError(f"{where}: the size of pool {base} must be between "
                              f"{base.prefixlen} and {_MAX_SIZE[base.version]}")
        pools.append(Pool(base, entry["size"]))
    return (*(of_version(pools, 4) or DEFAULT_POOLS), *(of_version(pools, 6)
                                                      or default_pools6()))


def load_pools(path: Path | None = None) -> tuple[Pool, ...]:
    """The configured pools: the defaults if the file does not exist."""
    path = path or config_path()
    return parse_pools(load_config(path), str(path))


def default_bridge_ipv6(path: Path | None = None) -> tuple[bool, IPv6Network | None]:
    """Whether the default network "bridge" has IPv6, and its subnet if root chose one:
    Docker's daemon.json words, ``{"ipv6": true, "fixed-cidr-v6": "fd12:3456::/64"}``
    (without a subnet, a /64 of the IPv6 pool)."""
    path = path or config_path()
    data = load_config(path)
    ipv6, fixed = data.get("ipv6", False), data.get("fixed-cidr-v6")
    if not isinstance(ipv6, bool) or not isinstance(fixed, str | None):
        raise HelperError(f"{path}: ipv6 must be true or false and fixed-cidr-v6 a subnet")
    try:
        return ipv6, IPv6Network(fixed) if ipv6 and fixed else None
    except ValueError as exc:
        raise HelperError(f"{path}: invalid fixed-cidr-v6 {fixed!r}: {exc}") from None


def load_config(path: Path) -> dict[str, Any]:
    """The configuration file's JSON object; {} if the file does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise HelperError(f"cannot read the network configuration {path}: "
                          f"{exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        _check_owner(path, os.fstat(file.fileno()))
        _check_owner(path.parent, os.stat(path.parent))
        text = file.read(1 << 20)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HelperError(f"the network configuration {path} is not valid JSON: {exc}") \
            from None
    if not isinstance(data, dict):
        raise HelperError(f"{path}: expected a JSON object")
    return data


def _check_owner(path: Path, st: os.stat_result) -> None:
    if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise HelperError(f"{path} must belong to root and be writable by root alone; "
                          f"fix it with: chown root: {path} && chmod go-w {path}")


def inside(subnet: Subnet, pools: Sequence[Pool]) -> bool:
    return any(subnet.subnet_of(pool.base)  # type: ignore[arg-type]
               for pool in of_version(pools, subnet.version))


def describe(pools: Sequence[Pool]) -> str:
    """The pools' ranges in few words: "10.88.0.0/16, 172.17.0.0-172.31.255.255"."""
    v6 = [str(net) for net in collapse_addresses(
        p.base for p in of_version(pools, 6) if isinstance(p.base, IPv6Network))]
    v4 = [p.base for p in of_version(pools, 4) if isinstance(p.base, IPv4Network)]
    spans: list[list[int]] = []
    for net in collapse_addresses(v4):
        first, last = int(net.network_address), int(net.broadcast_address)
        if spans and spans[-1][1] + 1 == first:
            spans[-1][1] = last
        else:
            spans.append([first, last])
    parts = []
    for first, last in spans:
        nets = list(summarize_address_range(IPv4Address(first), IPv4Address(last)))
        parts.append(str(nets[0]) if len(nets) == 1 else f"{nets[0].network_address}-"
                     f"{nets[-1].broadcast_address}")
    return ", ".join([*parts, *v6])
