"""The helper's record of networks and their address allocations.

One JSON file per network under the helper's network directory holds its
owner, bridge, subnet and gateway (and, if asked for, the range addresses are
handed out from and whether it is internal; with IPv6, its IPv6 subnet and
gateway) and one endpoint per connected container: its owner, the address (and
IPv6 address), the names peers resolve it by, and the ports published to it.
IPv6 addresses are handed out in order from the subnet's ::2, as Docker's
are. A released endpoint whose veth may still be on the host is kept as
*leaving* (its addresses and MAC address stay taken) until the veth is gone:
the kernel deletes a veth with its sandbox's namespace, after the release
(:meth:`.Networking.cleanup_container`), and an address is never handed out
while a link that had it is still on the bridge. The whole netfilter rule set
and every hosts file are rendered from these records. Owners are uids the
helper took from its peer (SO_PEERCRED), never from a request.

Network names are per user, as containers are: two users may each have an
"appnet", and nothing one user does with names tells them of another's
networks (a host-wide name would have to answer "already exists" for a
network they are told does not exist). So a record's key, its file name and
its bridge's name (:func:`.subnets.bridge_name`) hold the owner:
"<name>@<uid>" for a user's network ("@" is never part of a name), the bare
name for root's networks and for the default network "bridge", which every
user shares. Records from before owners were recorded are root's.

Changes happen in :meth:`Ipam.transaction`: an exclusive flock on the
directory's lock file across read-modify-write (no duplicates across
processes), and each changed record saved so that a crash at any point leaves
either the old or the new one (:mod:`.recordfiles`). A change to the network
itself is fsynced; one to its endpoints only is not (as a container's status
file is not), nor does it replace a file: they live no longer than the
machine's boot, after which repair releases every one of them (5-20 ms of
journal waits saved on each container start and end on this loaded VM).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
    ip_address,
)
from pathlib import Path
from typing import Any

from engine.errors import Conflict, HelperError, InvalidArgument, NetworkNotFound
from engine.helper.network import recordfiles
from engine.helper.network.policy import check_gateway
from engine.helper.network.rules import PublishedPort
from engine.helper.network.subnets import DEFAULT_NETWORK, mac_for

__all__ = ["Endpoint", "Ipam", "Leaving", "NetworkRecord", "record_key", "visible"]

_PREVIOUS_KEPT = 1024


def record_key(name: str, uid: int | None) -> str:
    """Where the network ``name`` of user ``uid`` is recorded (see the module's docstring)."""
    if "@" in name:
        raise NetworkNotFound(f"network {name} not found")
    return name if name == DEFAULT_NETWORK or not uid else f"{name}@{uid}"


def visible(records: dict[str, NetworkRecord], name: str, uid: int) -> NetworkRecord | None:
    """User ``uid``'s network ``name``, or the shared default one; None for any other."""
    record = records.get(record_key(name, uid))
    return record if record is not None and record.owner in (None, uid) else None


@dataclass
class Endpoint:
    container_id: str
    address: IPv4Interface
    hostname: str = ""
    names: list[str] = field(default_factory=list)  # [container name, *aliases]
    ports: list[PublishedPort] = field(default_factory=list)
    owner: int = 0  # uid of the container's owner
    mac_address: str = ""  # --mac-address; "": derived from the address, as Docker did
    address6: IPv6Interface | None = None  # on a network with IPv6
    veth: str = ""  # its host end, deleted by name at release ("": a record made before)

    @property
    def mac(self) -> str:
        return self.mac_address or mac_for(self.address.ip)

    def to_json(self) -> dict[str, Any]:
        return {"address": str(self.address), "hostname": self.hostname, "names": self.names,
                "ports": [vars(port) for port in self.ports], "owner": self.owner,
                **({"mac": self.mac_address} if self.mac_address else {}),
                **({"address6": str(self.address6)} if self.address6 else {}),
                **({"veth": self.veth} if self.veth else {})}

    @classmethod
    def from_json(cls, container_id: str, data: dict[str, Any]) -> Endpoint:
        return cls(container_id, IPv4Interface(data["address"]), data.get("hostname", ""),
                   list(data.get("names", [])),
                   [PublishedPort(**port) for port in data.get("ports", [])],
                   int(data.get("owner", 0)), str(data.get("mac", "")),
                   IPv6Interface(data["address6"]) if data.get("address6") else None,
                   str(data.get("veth", "")))


@dataclass
class Leaving:
    """A released endpoint's veth (by its host end's name) that may still be on the
    bridge: what it had stays taken until it is gone."""

    container_id: str
    address: IPv4Interface
    mac: str
    address6: IPv6Interface | None = None
    since: float = 0.0  # time.time() of the release

    def to_json(self) -> dict[str, Any]:
        return {"container": self.container_id, "address": str(self.address), "mac": self.mac,
                **({"address6": str(self.address6)} if self.address6 else {}),
                "since": self.since}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Leaving:
        return cls(str(data["container"]), IPv4Interface(data["address"]), str(data["mac"]),
                   IPv6Interface(data["address6"]) if data.get("address6") else None,
                   float(data.get("since", 0.0)))


@dataclass
class NetworkRecord:
    name: str
    bridge: str
    subnet: IPv4Network
    gateway: IPv4Address
    user_defined: bool = True
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    last: IPv4Address | None = None  # allocation goes round-robin from here
    previous: dict[str, str] = field(default_factory=dict)  # released: id -> address
    created: str = field(default_factory=lambda: _now())  # RFC 3339, UTC; "" when unknown
    owner: int | None = 0  # uid; None for the shared default network
    internal: bool = False  # no way in or out but its own containers
    ip_range: IPv4Network | None = None  # where addresses are handed out; None: the subnet
    subnet6: IPv6Network | None = None  # docker network create --ipv6
    gateway6: IPv6Address | None = None
    last6: IPv6Address | None = None
    ip_range6: IPv6Network | None = None  # where IPv6 addresses are handed out
    leaving: dict[str, Leaving] = field(default_factory=dict)  # veth -> what it had
    # IPAM's auxiliary addresses (name -> address): in a subnet, never handed out
    aux: dict[str, IPv4Address | IPv6Address] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_gateway(self.subnet, self.gateway)
        if self.ip_range is not None and not self.ip_range.subnet_of(self.subnet):
            raise InvalidArgument(f"no matching subnet for range {self.ip_range}")
        if self.subnet6 is not None:
            if self.gateway6 is None:
                self.gateway6 = self.subnet6.network_address + 1
            check_gateway(self.subnet6, self.gateway6)
        if self.ip_range6 is not None and not (
                self.subnet6 is not None and self.ip_range6.subnet_of(self.subnet6)):
            raise InvalidArgument(f"no matching subnet for range {self.ip_range6}")
        for name, address in self.aux.items():
            subnet = self.subnet if address.version == 4 else self.subnet6
            if subnet is None or address not in subnet:
                raise InvalidArgument(f"no matching subnet for aux-address {address}")
            if address in (self.gateway, self.gateway6, subnet.network_address) or (
                    address.version == 4 and address == subnet.broadcast_address):
                raise InvalidArgument(f"failed to allocate secondary ip address ({name}:"
                                      f"{address}): it is the network's own address, "
                                      "gateway or broadcast")

    @property
    def gateway6_interface(self) -> IPv6Interface | None:
        """The bridge's IPv6 address with the subnet's prefix, when the network has one."""
        if self.subnet6 is None or self.gateway6 is None:
            return None
        return IPv6Interface((self.gateway6, self.subnet6.prefixlen))

    @property
    def key(self) -> str:
        return record_key(self.name, self.owner)

    def allocate(self, container_id: str, requested: IPv4Address | None = None,
                 requested6: IPv6Address | None = None) -> Endpoint:
        """The container's endpoint, with a new address if it has none yet (and an IPv6
        one on a network with IPv6).

        A container gets back the address it had last on this network when
        that is still free; others are handed out round-robin, so a released
        address is not reused at once.
        """
        existing = self.endpoints.get(container_id)
        if existing is not None:
            return existing
        address6 = self._allocate6(requested6)
        used = {int(ep.address.ip) for ep in self.endpoints.values()} | {int(self.gateway)}
        used |= {int(a) for a in self.aux.values() if a.version == 4}
        used |= {int(gone.address.ip) for gone in self.leaving.values()}
        first = int(self.subnet.network_address) + 1
        last = int(self.subnet.broadcast_address) - 1
        if requested is not None:
            if requested not in self.subnet:
                raise InvalidArgument(f"invalid address {requested}: it does not belong to "
                                      f"network {self.name}'s subnet {self.subnet}")
            if not first <= int(requested) <= last or int(requested) == int(self.gateway):
                raise InvalidArgument(f"address {requested} is not available in {self.subnet}: "
                                      "it is the network's own address, gateway or broadcast")
            if int(requested) in used:
                raise Conflict(f"address {requested} is already in use on network {self.name}")
            chosen = int(requested)
        else:
            wanted = self.previous.get(container_id)
            if wanted is not None and int(IPv4Address(wanted)) not in used \
                    and first <= int(IPv4Address(wanted)) <= last:
                chosen = int(IPv4Address(wanted))
            else:
                if self.ip_range is not None:  # chosen ones go in the range, asked ones anywhere
                    first = max(first, int(self.ip_range.network_address))
                    last = min(last, int(self.ip_range.broadcast_address))
                chosen = self._next_free(used, first, last)
        address = IPv4Interface((chosen, self.subnet.prefixlen))
        endpoint = Endpoint(container_id, address, address6=address6)
        self.endpoints[container_id] = endpoint
        self.last = address.ip
        if address6 is not None and requested6 is None:
            self.last6 = address6.ip
        self.previous.pop(container_id, None)
        return endpoint

    def _allocate6(self, requested: IPv6Address | None) -> IPv6Interface | None:
        """The next free IPv6 address after the last one handed out (or ``requested``)."""
        if self.subnet6 is None:
            if requested is not None:
                raise InvalidArgument(f"invalid address {requested}: network {self.name} has "
                                      "no IPv6 (create it with --ipv6)")
            return None
        subnet = self.subnet6
        used = {ep.address6.ip for ep in self.endpoints.values() if ep.address6 is not None}
        used |= {gone.address6.ip for gone in self.leaving.values() if gone.address6 is not None}
        used.add(self.gateway6 or subnet.network_address + 1)
        used |= {a for a in self.aux.values() if isinstance(a, IPv6Address)}
        used.add(subnet.network_address)
        if requested is not None:
            if requested not in subnet:
                raise InvalidArgument(f"invalid address {requested}: it does not belong to "
                                      f"network {self.name}'s subnet {subnet}")
            if requested in used:
                raise Conflict(f"address {requested} is already in use on network "
                               f"{self.name}")
            return IPv6Interface((requested, subnet.prefixlen))
        pool = self.ip_range6 or subnet  # chosen ones go in the range, asked ones anywhere
        first = max(int(subnet.network_address) + 1, int(pool.network_address))
        last = int(pool.broadcast_address)
        start = int(self.last6) + 1 if self.last6 is not None else first
        for step in range(len(used) + 1):  # one of these is free
            candidate = first + (start - first + step) % (last - first + 1)
            if IPv6Address(candidate) not in used:
                return IPv6Interface((candidate, subnet.prefixlen))
        raise Conflict(f"network {self.name} has no free IPv6 address left in {pool}")

    def _next_free(self, used: set[int], first: int, last: int) -> int:
        start = int(self.last) + 1 if self.last is not None else first
        if not first <= start <= last:
            start = first
        # As their text: parsing the default network's 1024 previous addresses took ~3.5
        # ms of every start there; the few candidates looked at are written instead.
        recent = set(self.previous.values())
        size = last - first + 1
        for avoid_recent in (True, False):  # prefer addresses nobody had recently
            for step in range(size):
                candidate = first + (start - first + step) % size
                if candidate not in used and not (
                        avoid_recent and socket.inet_ntoa(candidate.to_bytes(4, "big")) in recent):
                    return candidate
        raise Conflict(f"network {self.name} has no free address left in "
                       f"{self.ip_range or self.subnet}")

    def release(self, container_id: str) -> Endpoint | None:
        """Take the container's endpoint off the network. One with a recorded veth
        is leaving until :meth:`settle` finds that veth gone; the caller deletes a
        veth it did not record before it releases."""
        endpoint = self.endpoints.pop(container_id, None)
        if endpoint is not None:
            self.previous[container_id] = str(endpoint.address.ip)
            while len(self.previous) > _PREVIOUS_KEPT:
                del self.previous[next(iter(self.previous))]
            if endpoint.veth:
                self.leaving[endpoint.veth] = Leaving(container_id, endpoint.address,
                                                      endpoint.mac, endpoint.address6,
                                                      time.time())
        return endpoint

    def settle(self, gone: Callable[[str, Leaving], bool]) -> None:
        """Forget the leaving veths ``gone`` says are off the host (it may delete one)."""
        for veth, leaving in list(self.leaving.items()):
            if gone(veth, leaving):
                del self.leaving[veth]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bridge": self.bridge,
            "subnet": str(self.subnet),
            "gateway": str(self.gateway),
            "user_defined": self.user_defined,
            "endpoints": {cid: ep.to_json() for cid, ep in sorted(self.endpoints.items())},
            "last": str(self.last) if self.last is not None else None,
            "previous": self.previous,
            "created": self.created,
            "owner": self.owner,
            "internal": self.internal,
            "ip_range": str(self.ip_range) if self.ip_range is not None else None,
            **({"subnet6": str(self.subnet6), "gateway6": str(self.gateway6),
                "last6": str(self.last6) if self.last6 is not None else None,
                "ip_range6": str(self.ip_range6) if self.ip_range6 is not None else None}
               if self.subnet6 is not None else {}),
            **({"leaving": {veth: gone.to_json() for veth, gone in sorted(self.leaving.items())}}
               if self.leaving else {}),
            **({"aux": {name: str(a) for name, a in self.aux.items()}} if self.aux else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetworkRecord:
        return cls(
            name=data["name"],
            bridge=data["bridge"],
            subnet=IPv4Network(data["subnet"]),
            gateway=IPv4Address(data["gateway"]),
            user_defined=bool(data.get("user_defined", True)),
            endpoints={cid: Endpoint.from_json(cid, ep)
                       for cid, ep in data.get("endpoints", {}).items()},
            last=IPv4Address(data["last"]) if data.get("last") else None,
            previous=dict(data.get("previous", {})),
            created=str(data.get("created") or ""),
            owner=_owner(data),
            internal=bool(data.get("internal", False)),
            ip_range=IPv4Network(data["ip_range"]) if data.get("ip_range") else None,
            subnet6=IPv6Network(data["subnet6"]) if data.get("subnet6") else None,
            gateway6=IPv6Address(data["gateway6"]) if data.get("gateway6") else None,
            last6=IPv6Address(data["last6"]) if data.get("last6") else None,
            ip_range6=IPv6Network(data["ip_range6"]) if data.get("ip_range6") else None,
            leaving={veth: Leaving.from_json(gone)
                     for veth, gone in data.get("leaving", {}).items()},
            aux={name: ip_address(a) for name, a in data.get("aux", {}).items()},
        )


def _now() -> str:
    """Now in RFC 3339 with nanoseconds, UTC, as docker's Created."""
    seconds, fraction = divmod(time.time_ns(), 1_000_000_000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{fraction:09d}Z"


def _owner(data: dict[str, Any]) -> int | None:
    if "owner" in data:
        return None if data["owner"] is None else int(data["owner"])
    return None if data["name"] == DEFAULT_NETWORK else 0


class Ipam:
    """Network records in ``directory``, one ``<key>.json`` each (see record_key)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def locked(self, name: str, exclusive: bool) -> Iterator[None]:
        """Hold the lock file ``name`` in the records' directory, shared or exclusive."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _locked(self, exclusive: bool) -> contextlib.AbstractContextManager[None]:
        return self.locked(".lock", exclusive)

    def _load(self) -> dict[str, NetworkRecord]:
        return {key: record for key, (record, _) in self._stored().items()}

    def _stored(self) -> dict[str, tuple[NetworkRecord, recordfiles.Stored]]:
        records = {}
        for path in sorted(self.directory.glob("*.json")):
            try:
                stored = recordfiles.load(self.directory, path.stem)
                record = NetworkRecord.from_json(stored.data)
            except (ValueError, KeyError, TypeError) as exc:
                raise HelperError(f"the network record {path} is damaged ({exc}); remove the "
                                  "file to forget that network") from None
            records[record.key] = (record, stored)
        return records

    def read(self) -> dict[str, NetworkRecord]:
        """A snapshot of every network record."""
        with self._locked(exclusive=False):
            return self._load()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, NetworkRecord]]:
        """Lock, load every record (by key), let the caller change the dict, save
        what changed (:mod:`.recordfiles`). Nothing is saved if the block raises."""
        with self._locked(exclusive=True):
            for stale in self.directory.glob(".*.tmp"):
                stale.unlink()
            stored = self._stored()
            records = {key: record for key, (record, _) in stored.items()}
            before = {name: record.to_json() for name, record in records.items()}
            yield records
            for name in before.keys() - records.keys():
                recordfiles.remove(self.directory, name)
            for name, record in records.items():
                if record.key != name:
                    raise HelperError(f"network record {record.key} stored under {name}")
                data = record.to_json()
                if before.get(name) != data:
                    recordfiles.save(self.directory, name, data, stored[name][1]
                                     if name in stored else None, durable=recordfiles.definition(
                                         before.get(name) or {}) != recordfiles.definition(data))
            if before.keys() != records.keys():
                recordfiles.sync_directory(self.directory)

    # -- the verbs, one transaction each ----------------------------------------------------

    def allocate(self, network: str, container_id: str,
                 requested: IPv4Address | None = None) -> IPv4Interface:
        with self.transaction() as records:
            return self._record(records, network).allocate(container_id, requested).address

    def release(self, network: str, container_id: str) -> None:
        with self.transaction() as records:
            if network in records:
                records[network].release(container_id)

    def repair(self, live_container_ids: Iterable[str]) -> dict[str, list[str]]:
        """Release every allocation whose container is not live: {network: [ids]}."""
        live = set(live_container_ids)
        released: dict[str, list[str]] = {}
        with self.transaction() as records:
            for name, record in records.items():
                for cid in sorted(record.endpoints.keys() - live):
                    record.release(cid)
                    released.setdefault(name, []).append(cid)
        return released

    @staticmethod
    def _record(records: dict[str, NetworkRecord], network: str) -> NetworkRecord:
        try:
            return records[network]
        except KeyError:
            raise NetworkNotFound(f"network {network} not found") from None
