"""What every part of :class:`~.networking.Networking` stands on: the records, the
bridges this instance set up, the rule set rendered from the records, and the
generated /etc files of the containers.

Kernel objects are named so they can be found without records: bridges by
prefix, veths by their owner alias, sandboxes by their mount.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path

from engine.errors import NetworkNotFound
from engine.helper.network import etcfiles, links
from engine.helper.network.endpoints import hosts_for
from engine.helper.network.ipam import Ipam, NetworkRecord, visible
from engine.helper.network.netfilter import Netfilter, detect_backend
from engine.helper.network.plan import NetworkPlan
from engine.helper.network.ruleset import apply_records
from engine.helper.network.spares import Spares

__all__ = ["SANDBOX", "SPARES", "NetworkingBase"]

SANDBOX = "netns"
SPARES = "spares"  # below the records' directory


class NetworkingBase:
    """Networks, container endpoints and published ports on this host.

    ``state_dir`` holds the network records (under the helper's root);
    ``container_dir`` maps a container id to its directory, where the sandbox
    and the generated /etc files live. ``uid`` is the caller the instance acts
    for. ``table`` and ``bridge_prefix`` name what Skiff owns in the kernel;
    tests pass their own.
    """

    def __init__(self, state_dir: Path, container_dir: Callable[[str], Path], *, uid: int,
                 table: str = "skiff", bridge_prefix: str = "skiff",
                 backend: str = "") -> None:
        self.uid = uid
        self.ipam = Ipam(state_dir)
        self.container_dir = container_dir
        self.bridge_prefix = bridge_prefix
        self._table, self._backend = table, backend
        # Bridges this instance set up as their records say: a container's start checks
        # that the bridge is still there, not its addresses (~16 ms of netlink a start).
        self._bridges_set_up: dict[str, tuple[object, ...]] = {}
        self.spares: Spares | None = None  # see keep_spares

    def keep_spares(self) -> None:
        """Keep spare sandboxes ready for the bridges containers start on
        (:mod:`.spares`): what a lingering helper does, whose next start takes one."""
        if self.spares is None:
            self.spares = Spares(self.ipam.directory / SPARES,
                                 lambda: self.ipam.locked(".starts.lock", exclusive=False))

    @functools.cached_property
    def netfilter(self) -> Netfilter:
        """Found when rules change: a container's release without published ports
        (what each monitor does as its container ends) runs no `nft list tables`."""
        return Netfilter(self._table, self._backend or detect_backend())

    def sandbox_path(self, container_id: str) -> Path:
        return self.container_dir(container_id) / SANDBOX

    def networks(self) -> dict[str, NetworkRecord]:
        """The caller's networks and the shared default one, by name."""
        return {r.name: r for r in self.ipam.read().values() if r.owner in (None, self.uid)}

    def network(self, name: str) -> NetworkRecord:
        return self._find(self.ipam.read(), name)

    def _find(self, records: dict[str, NetworkRecord], name: str) -> NetworkRecord:
        record = visible(records, name, self.uid)
        if record is None:
            raise NetworkNotFound(f"network {name} not found")
        return record

    def _ensure_bridge(self, record: NetworkRecord, *, known: bool = False) -> None:
        """The record's bridge, made or fixed up; ``known``: trust what this instance
        set up before if the bridge is still there (a container's start; repair and
        network creation look at everything)."""
        wanted = (record.subnet, record.gateway, record.gateway6_interface)
        if known and self._bridges_set_up.get(record.bridge) == wanted \
                and links.link_exists(record.bridge):
            return
        links.ensure_bridge(record.bridge, *wanted)
        self._bridges_set_up[record.bridge] = wanted

    def _apply(self, records: dict[str, NetworkRecord]) -> None:
        apply_records(self.netfilter, records, self.bridge_prefix, self.ipam.directory)

    # -- the containers' /etc files ---------------------------------------------------------

    def write_files(self, container_id: str, hostname: str,
                    plan: NetworkPlan) -> dict[str, Path]:
        """Write the container's hosts, hostname and resolv.conf; returns their paths."""
        directory = self.container_dir(container_id)
        files = {name: directory / name for name in
                 (etcfiles.HOSTS, etcfiles.HOSTNAME, etcfiles.RESOLV_CONF)}
        options = self.etc_options(container_id)
        if plan.host_network:
            try:
                hosts = Path("/etc/hosts").read_text() + options.hosts_lines("127.0.0.1")
            except OSError:
                hosts = etcfiles.render_hosts(hostname, [], extra=options.hosts_lines())
        else:
            hosts = hosts_for(self.ipam.read(), container_id, hostname, options)
        etcfiles.write_in_place(files[etcfiles.HOSTS], hosts)
        etcfiles.write_in_place(files[etcfiles.HOSTNAME], f"{hostname}\n")
        etcfiles.write_in_place(files[etcfiles.RESOLV_CONF], etcfiles.apply_dns(
            etcfiles.host_resolv_conf(plan.host_network), options))
        return files

    def etc_options(self, container_id: str) -> etcfiles.EtcOptions:
        return etcfiles.read_options(self.container_dir(container_id))

    def refresh_hosts(self, container_ids: Iterable[str]) -> None:
        """Rewrite the hosts files of these containers (those that have one)
        after a peer joined or left one of their networks."""
        container_ids = list(container_ids)
        if not container_ids:  # a default network's release, say: no read of the records
            return
        records = self.ipam.read()
        for cid in container_ids:
            path = self.container_dir(cid) / etcfiles.HOSTS
            if not path.exists():
                continue
            own = [r.endpoints[cid] for r in records.values() if cid in r.endpoints]
            hostname = own[0].hostname if own else ""
            etcfiles.write_in_place(path, hosts_for(records, cid, hostname,
                                                     self.etc_options(cid)))
