"""What a container's ``--network`` choice means for the runtime: pure data.

    bridge / default / ""  sandbox, connected to the default network "bridge"
    NAME                   sandbox, connected to user network NAME (name resolution)
    none                   sandbox with loopback only
    host                   no sandbox: init stays in the host's namespace
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import InvalidArgument
from engine.helper.network.subnets import DEFAULT_NETWORK
from engine.names import check_network_name

__all__ = ["NetworkPlan", "plan_network"]


@dataclass(frozen=True)
class NetworkPlan:
    mode: str  # "bridge" | "none" | "host"
    sandbox: bool  # make <container dir>/netns and have init setns() into it
    networks: tuple[str, ...]  # to connect, in order; the first carries the default route
    publish: bool  # published ports apply
    warnings: tuple[str, ...] = ()

    @property
    def host_network(self) -> bool:
        return self.mode == "host"


def plan_network(mode: str, ports: Sequence[object] = (),
                 aliases: Sequence[str] = ()) -> NetworkPlan:
    """The plan for ``--network MODE`` with these published ports and aliases."""
    if mode in ("", "default", DEFAULT_NETWORK):
        if aliases:
            raise InvalidArgument("network aliases need a user-defined network; create one "
                                  "with 'skiff network create' and use --network NAME")
        return NetworkPlan("bridge", True, (DEFAULT_NETWORK,), True)
    if mode == "host":
        warnings = ("published ports are discarded with the host network",) if ports else ()
        if aliases:
            raise InvalidArgument("network aliases need a user-defined network, not host")
        return NetworkPlan("host", False, (), False, warnings)
    if mode == "none":
        if ports:
            raise InvalidArgument("cannot publish ports of a container with --network none")
        if aliases:
            raise InvalidArgument("network aliases need a user-defined network, not none")
        return NetworkPlan("none", True, (), False)
    if mode.startswith("container:"):
        raise InvalidArgument("--network container:NAME is not supported yet")
    return NetworkPlan("bridge", True, (check_network_name(mode),), True)
