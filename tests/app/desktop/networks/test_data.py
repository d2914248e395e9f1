"""What the Networks page lists of a network with IPv6 (no window needed)."""

from __future__ import annotations

from app.desktop.networks.data import network_entries
from engine import Container, ContainerConfig, ContainerState, Network, NetworkEndpoint


def test_a_network_with_ipv6_shows_both_subnets_and_both_addresses() -> None:
    config = ContainerConfig(image="busybox", image_id="", network="v6net")
    web = Container("a" * 64, "web", "", config, ContainerState())
    v6 = Network("v6net", "b" * 64, "", subnet="10.1.0.0/24", gateway="10.1.0.1",
                 enable_ipv6=True, subnet6="fd12::/64", gateway6="fd12::1",
                 containers={web.id: NetworkEndpoint(web.id, "web", "c" * 64,
                                                     ipv4_address="10.1.0.2/24",
                                                     ipv6_address="fd12::2/64")})
    v4 = Network("v4net", "d" * 64, "", subnet="10.2.0.0/24", gateway="10.2.0.1",
                 containers={web.id: NetworkEndpoint(web.id, "web", "e" * 64,
                                                     ipv4_address="10.2.0.2/24")})
    first, second = network_entries([v6, v4], [web])
    assert (first.subnet, first.members[0].address) == ("10.1.0.0/24, fd12::/64",
                                                        "10.1.0.2/24, fd12::2/64")
    assert first.wanted_by == ["web"]
    assert (second.subnet, second.members[0].address) == ("10.2.0.0/24", "10.2.0.2/24")
