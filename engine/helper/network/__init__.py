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

from engine.helper.network.ipam import Endpoint, Ipam, NetworkRecord
from engine.helper.network.links import AttachResult, attach, detach, ensure_bridge, remove_bridge
from engine.helper.network.netns import create_sandbox, destroy_sandbox, is_sandbox
from engine.helper.network.networking import (
    Networking,
    PortRequest,
    RepairReport,
    StartedNetwork,
)
from engine.helper.network.plan import NetworkPlan, plan_network
from engine.helper.network.rules import PublishedPort
from engine.helper.network.subnets import DEFAULT_NETWORK

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
