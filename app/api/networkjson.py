"""Networks as the Docker Engine API shows them, and the list filters dockerd knows.

The engine already answers in ``docker network inspect``'s shape; this fills
in what the list and create endpoints add (labels, a container-free list entry)
and decides which networks a ``filters`` query keeps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from app.api.filters import Filters
from engine import InvalidArgument, IpamEntry, NetworkNotFound, NetworkSubnets, network_subnets

__all__ = ["NETWORK_FILTERS", "PREDEFINED", "create_options", "filter_networks",
           "network_json"]

NETWORK_FILTERS = ("dangling", "driver", "id", "label", "label!", "name", "scope", "type")
PREDEFINED = ("bridge", "host", "none")


def network_json(network: dict[str, Any], *, containers: bool = True) -> dict[str, Any]:
    """dockerd's network object; the list leaves ``Containers`` empty, as dockerd does."""
    entry = {"Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
             "Attachable": False, "Internal": False, "EnableIPv6": False, **network}
    entry["Labels"] = dict(network.get("Labels") or {})
    entry["Options"] = dict(network.get("Options") or {})
    if not containers:
        entry["Containers"] = {}
    return entry


def filter_networks(networks: Sequence[dict[str, Any]], filters: Filters) -> list[dict[str, Any]]:
    kept = []
    for network in networks:
        name = str(network.get("Name", ""))
        if filters.get("name") and not any(_matches(value, name)
                                           for value in filters.get("name")):
            continue
        if not filters.any_matches("id", [str(network.get("Id", ""))], prefix=True):
            continue
        if not filters.any_matches("driver", [str(network.get("Driver", ""))]):
            continue
        if not filters.any_matches("scope", [str(network.get("Scope", "local"))]):
            continue
        kind = "builtin" if name in PREDEFINED else "custom"
        if not filters.any_matches("type", [kind]):
            continue
        labels = network.get("Labels") or {}
        if not filters.labels_match(labels) or not filters.labels_absent(labels):
            continue
        dangling = filters.boolean("dangling")
        if dangling is not None:
            unused = kind == "custom" and not network.get("Containers")
            if unused != dangling:
                continue
        kept.append(network)
    return kept


def _matches(pattern: str, name: str) -> bool:
    """dockerd matches ``name`` as a regular expression anywhere in the name."""
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return pattern in name


def create_options(body: dict[str, Any]) -> tuple[str, NetworkSubnets]:
    """(name, subnets) of a ``POST /networks/create`` body; what Skiff's bridge networks
    cannot do is refused in one line rather than ignored."""
    name = str(body.get("Name") or "").strip()
    if not name:
        raise InvalidArgument("network name must not be empty")
    driver = str(body.get("Driver") or "bridge")
    if driver != "bridge":
        raise NetworkNotFound(f'plugin "{driver}" not found: Skiff networks use the bridge '
                              "driver")
    if body.get("EnableIPv4") is False:
        raise InvalidArgument("IPv6-only networks are not supported by Skiff: its networks "
                              "always have IPv4")
    ipam = body.get("IPAM") or {}
    configs = ipam.get("Config") or [] if isinstance(ipam, dict) else []
    return name, network_subnets([IpamEntry.of(c) for c in configs],
                                 bool(body.get("EnableIPv6")))
