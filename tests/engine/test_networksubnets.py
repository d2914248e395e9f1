"""Docker's list of subnets into a Skiff network's one IPv4 and one IPv6 subnet."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.networksubnets import IpamEntry, NetworkSubnets, network_subnets, pair_flags


def test_one_subnet_of_each_version_with_its_gateway() -> None:
    assert network_subnets([]) == NetworkSubnets()
    assert network_subnets([], ipv6=True) == NetworkSubnets(ipv6=True)
    entries = [IpamEntry("fd12::/64", "fd12::fe"), IpamEntry("10.1.0.0/24", "10.1.0.254",
                                                             "10.1.0.128/25")]
    assert network_subnets(entries, ipv6=True) == NetworkSubnets(
        "10.1.0.0/24", "10.1.0.254", "10.1.0.128/25", True, "fd12::/64", "fd12::fe")
    assert network_subnets([IpamEntry("fd12::/64", "", "fd12::/96")], True).ip_range6 == \
        "fd12::/96"
    # without IPv6 enabled, dockerd passes an IPv6 entry over (unchecked): no IPv6
    assert network_subnets([IpamEntry("10.1.0.0/24"), IpamEntry("fd12::/64", "bad")]) == \
        NetworkSubnets("10.1.0.0/24")


@pytest.mark.parametrize(("entries", "ipv6", "message"), [
    ([IpamEntry("10.1.0.0/24"), IpamEntry("10.2.0.0/24")], False,
     r"one IPv4 subnet: 10.1.0.0/24 and 10.2.0.0/24"),
    ([IpamEntry("fd12::/64"), IpamEntry("fd13::/64")], True, "one IPv6 subnet"),
    ([IpamEntry("10.1.0.0/24", "fd12::1")], True, "no matching subnet for gateway fd12::1"),
    ([IpamEntry("", "10.1.0.1")], False, "needs a subnet"),
    ([IpamEntry("nonsense")], False, "invalid subnet 'nonsense'"),
])
def test_what_a_skiff_network_cannot_have(entries: list[IpamEntry], ipv6: bool,
                                          message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        network_subnets(entries, ipv6)


def test_the_cli_flags_pair_by_version_and_the_api_and_compose_spell_their_own() -> None:
    assert pair_flags(["10.1.0.0/24", "fd12::/64"], ["fd12::fe", "10.1.0.254"], []) == [
        IpamEntry("10.1.0.0/24", "10.1.0.254"), IpamEntry("fd12::/64", "fd12::fe")]
    with pytest.raises(InvalidArgument, match="needs a subnet"):
        network_subnets(pair_flags(["10.1.0.0/24"], ["fd12::1"], []), ipv6=True)
    assert IpamEntry.of({"Subnet": "fd12::/64", "Gateway": "fd12::1"}) == \
        IpamEntry("fd12::/64", "fd12::1")
    assert IpamEntry.of({"subnet": "10.1.0.0/24", "ip_range": "10.1.0.0/25"}) == \
        IpamEntry("10.1.0.0/24", "", "10.1.0.0/25")
    with pytest.raises(InvalidArgument, match="IPAM config"):
        IpamEntry.of("10.1.0.0/24")


def test_aux_addresses_go_with_the_subnet_that_holds_them() -> None:
    entries = pair_flags(["10.1.0.0/24", "fd12::/64"], [], [],
                         {"router": "10.1.0.5", "dns6": "fd12::53"})
    assert entries == [IpamEntry("10.1.0.0/24", aux={"router": "10.1.0.5"}),
                       IpamEntry("fd12::/64", aux={"dns6": "fd12::53"})]
    assert network_subnets(entries, ipv6=True).aux == {"router": "10.1.0.5",
                                                       "dns6": "fd12::53"}
    with pytest.raises(InvalidArgument, match=r"no matching subnet for aux-address 10\.9\.0\.5"):
        pair_flags(["10.1.0.0/24"], [], [], {"a": "10.9.0.5"})
    assert IpamEntry.of({"Subnet": "10.1.0.0/24", "AuxiliaryAddresses": {"a": "10.1.0.6"}}) \
        == IpamEntry.of({"subnet": "10.1.0.0/24", "aux_addresses": {"a": "10.1.0.6"}}) \
        == IpamEntry("10.1.0.0/24", aux={"a": "10.1.0.6"})
    for entry, message in ((IpamEntry("10.1.0.0/24", aux={"a": "fd12::5"}),
                            "no matching subnet for aux-address fd12::5"),
                           (IpamEntry(aux={"a": "10.1.0.5"}), "needs a subnet")):
        with pytest.raises(InvalidArgument, match=message):
            network_subnets([entry], ipv6=True)
