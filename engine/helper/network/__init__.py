"""The privileged networking layer: sandboxes, bridges, veths, addresses,
netfilter rules and the generated /etc files, called by the helper and the
container monitors (never by the unprivileged engine).

The pieces, each usable alone: :mod:`.netns` (sandboxes), :mod:`.links`
(bridges and veths), :mod:`.ipam` (network records and addresses),
:mod:`.rules` and :mod:`.netfilter` (NAT and published ports), :mod:`.ports`
(host port checks), :mod:`.etcfiles` (hosts, hostname, resolv.conf),
:mod:`.plan` (what ``--network`` means). :class:`Networking` ties them into
the verbs the helper calls.
"""

from __future__ import annotations

from typing import Any

# Names are loaded on first use: importing a submodule (plan, say) must not pay
# for pyroute2 (~200 ms) when it does not need it.
_WHERE = {
    "Endpoint": "ipam", "Ipam": "ipam", "NetworkRecord": "ipam",
    "AttachResult": "links", "attach": "links", "detach": "links",
    "ensure_bridge": "links", "remove_bridge": "links",
    "create_sandbox": "netns", "destroy_sandbox": "netns", "is_sandbox": "netns",
    "Networking": "networking", "PortRequest": "networking", "RepairReport": "repair",
    "StartedNetwork": "networking",
    "NetworkPlan": "plan", "plan_network": "plan",
    "PublishedPort": "rules",
    "DEFAULT_NETWORK": "subnets",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DEFAULT_NETWORK",
    "AttachResult",
    "Endpoint",
    "Ipam",
    "NetworkPlan",
    "NetworkRecord",
    "Networking",
    "PortRequest",
    "PublishedPort",
    "RepairReport",
    "StartedNetwork",
    "attach",
    "create_sandbox",
    "destroy_sandbox",
    "detach",
    "ensure_bridge",
    "is_sandbox",
    "plan_network",
    "remove_bridge",
]
