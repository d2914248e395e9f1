"""Network records and address allocation: files, locks, crashes (no root needed)."""

from __future__ import annotations

import json
import multiprocessing
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from pathlib import Path

import pytest

from engine.errors import Conflict, HelperError, InUse, InvalidArgument, NetworkNotFound
from engine.helper.network.ipam import Ipam, NetworkRecord
from engine.helper.network.rules import PublishedPort


def _ipam(tmp_path: Path, subnet: str = "10.89.0.0/24") -> Ipam:
    ipam = Ipam(tmp_path / "networks")
    with ipam.transaction() as records:
        net = IPv4Network(subnet)
        records["appnet"] = NetworkRecord("appnet", "skiff-1", net, net.network_address + 1)
    return ipam


def test_fifty_allocations_are_distinct_and_stable(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    first = {f"c{i}": ipam.allocate("appnet", f"c{i}") for i in range(50)}
    assert len(set(first.values())) == 50
    assert IPv4Address("10.89.0.1") not in {a.ip for a in first.values()}  # the gateway
    assert all(a.network == IPv4Network("10.89.0.0/24") for a in first.values())
    # asking again, or from a fresh Ipam reading the files, gives the same address
    assert {cid: ipam.allocate("appnet", cid) for cid in first} == first
    again = Ipam(tmp_path / "networks")
    assert {cid: again.allocate("appnet", cid) for cid in first} == first


def _allocate_many(directory: str, worker: int, count: int) -> None:
    ipam = Ipam(Path(directory))
    for i in range(count):
        ipam.allocate("appnet", f"w{worker}-{i}")


def test_concurrent_processes_never_share_an_address(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_allocate_many, args=(str(ipam.directory), w, 25))
               for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    endpoints = ipam.read()["appnet"].endpoints
    assert len(endpoints) == 100
    assert len({ep.address for ep in endpoints.values()}) == 100


def test_release_then_allocate_gives_the_address_back_and_others_new_ones(
        tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    a = ipam.allocate("appnet", "a")
    b = ipam.allocate("appnet", "b")
    ipam.release("appnet", "a")
    ipam.release("appnet", "a")  # idempotent
    c = ipam.allocate("appnet", "c")
    assert c not in (a, b)  # round-robin: a's address is not reused at once
    assert ipam.allocate("appnet", "a") == a


def test_a_full_subnet_is_refused(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path, "10.89.7.0/29")  # hosts .1-.6, .1 is the gateway
    got = {ipam.allocate("appnet", f"c{i}") for i in range(5)}
    assert {a.ip for a in got} == {IPv4Address(f"10.89.7.{i}") for i in range(2, 7)}
    with pytest.raises(Conflict, match="no free address left"):
        ipam.allocate("appnet", "one-too-many")


def test_requested_addresses(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    with ipam.transaction() as records:
        record = records["appnet"]
        assert record.allocate("a", IPv4Address("10.89.0.50")).address == \
            IPv4Interface("10.89.0.50/24")
        with pytest.raises(Conflict):
            record.allocate("b", IPv4Address("10.89.0.50"))
        for bad in ("10.89.0.1", "10.89.0.255", "10.90.0.5"):
            with pytest.raises(InvalidArgument):
                record.allocate("b", IPv4Address(bad))


def test_repair_after_a_crash_drops_stale_entries(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    live = ipam.allocate("appnet", "live")
    # a crash after allocating for a container that never ran: the entry is in
    # the record, and an interrupted write left a temporary file next to it
    with ipam.transaction() as records:
        records["appnet"].allocate("stale", IPv4Address("10.89.0.99"))
    (ipam.directory / ".appnet.json.tmp").write_text("{half a rec")

    assert ipam.repair({"live"}) == {"appnet": ["stale"]}
    assert list(ipam.read()["appnet"].endpoints) == ["live"]
    assert not (ipam.directory / ".appnet.json.tmp").exists()
    assert ipam.repair({"live"}) == {}
    assert ipam.allocate("appnet", "live") == live


def test_nothing_is_saved_when_the_transaction_fails(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    with pytest.raises(RuntimeError), ipam.transaction() as records:
        records["appnet"].allocate("x")
        raise RuntimeError("apply failed")
    assert ipam.read()["appnet"].endpoints == {}


def test_records_round_trip_with_ports_and_names(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    with ipam.transaction() as records:
        endpoint = records["appnet"].allocate("c1")
        endpoint.names = ["web-1", "web"]
        endpoint.hostname = "abc"
        endpoint.ports = [PublishedPort("tcp", "", 8080, 80)]
    endpoint = ipam.read()["appnet"].endpoints["c1"]
    assert endpoint.names == ["web-1", "web"] and endpoint.hostname == "abc"
    assert endpoint.ports == [PublishedPort("tcp", "", 8080, 80)]
    assert endpoint.mac == "02:42:0a:59:00:02"


def test_unknown_network_and_damaged_record(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    with pytest.raises(NetworkNotFound, match="network other not found"):
        ipam.allocate("other", "c1")
    (ipam.directory / "broken.json").write_text("{not json")
    with pytest.raises(HelperError, match=r"broken\.json is damaged"):
        ipam.read()


def test_record_validation() -> None:
    with pytest.raises(InvalidArgument, match="too small"):
        NetworkRecord("n", "b", IPv4Network("10.0.0.0/31"), IPv4Address("10.0.0.0"))
    with pytest.raises(InvalidArgument, match=r"no matching subnet for gateway 10\.0\.1\.1"):
        NetworkRecord("n", "b", IPv4Network("10.0.0.0/24"), IPv4Address("10.0.1.1"))


def test_an_ip_range_bounds_what_is_handed_out(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path / "networks")
    net = IPv4Network("10.89.0.0/24")
    with ipam.transaction() as records:
        records["appnet"] = NetworkRecord("appnet", "skiff-1", net, net.network_address + 1,
                                          ip_range=IPv4Network("10.89.0.128/30"))
    chosen = [ipam.allocate("appnet", f"c{i}").ip for i in range(4)]
    assert sorted(chosen) == [IPv4Address(f"10.89.0.{n}") for n in (128, 129, 130, 131)]
    with pytest.raises(Conflict, match=r"no free address left in 10\.89\.0\.128/30"):
        ipam.allocate("appnet", "c4")
    # an address asked for may lie anywhere in the subnet
    assert ipam.allocate("appnet", "c5", IPv4Address("10.89.0.9")).ip == IPv4Address("10.89.0.9")
    assert Ipam(tmp_path / "networks").read()["appnet"].ip_range == IPv4Network("10.89.0.128/30")
    with pytest.raises(InvalidArgument, match=r"no matching subnet for range 10\.90\.0\.0/25"):
        NetworkRecord("x", "skiff-2", net, net.network_address + 1,
                      ip_range=IPv4Network("10.90.0.0/25"))


def test_ipv6_addresses_go_in_order_and_records_keep_them(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path / "networks")
    subnet6 = IPv6Network("fd12:3456:789a:1::/64")
    with ipam.transaction() as records:
        net = IPv4Network("10.89.0.0/24")
        records["appnet"] = NetworkRecord("appnet", "skiff-1", net, net.network_address + 1,
                                          subnet6=subnet6)
    record = ipam.read()["appnet"]
    assert record.gateway6 == IPv6Address("fd12:3456:789a:1::1")  # the subnet's first
    assert record.gateway6_interface == IPv6Interface("fd12:3456:789a:1::1/64")
    with ipam.transaction() as records:
        first = records["appnet"].allocate("a" * 64)
        second = records["appnet"].allocate("b" * 64)
        asked = records["appnet"].allocate("c" * 64, requested6=IPv6Address(
            "fd12:3456:789a:1::99"))
        with pytest.raises(Conflict, match="already in use"):
            records["appnet"].allocate("d" * 64, requested6=IPv6Address("fd12:3456:789a:1::1"))
        with pytest.raises(InvalidArgument, match="does not belong"):
            records["appnet"].allocate("d" * 64, requested6=IPv6Address("fd00::5"))
        records["appnet"].release("a" * 64)
        third = records["appnet"].allocate("e" * 64)
    assert [str(e.address6) for e in (first, second, asked, third)] == [
        "fd12:3456:789a:1::2/64", "fd12:3456:789a:1::3/64", "fd12:3456:789a:1::99/64",
        "fd12:3456:789a:1::4/64"]  # an asked address moves nobody's turn
    again = Ipam(tmp_path / "networks").read()["appnet"]
    assert again.subnet6 == subnet6 and again.last6 == IPv6Address("fd12:3456:789a:1::4")
    assert again.endpoints["e" * 64].address6 == third.address6
    assert again.endpoints["b" * 64].address6 == second.address6


def test_ipv6_addresses_are_handed_out_in_the_range(tmp_path: Path) -> None:
    net = IPv4Network("10.89.0.0/24")
    record = NetworkRecord("appnet", "skiff-1", net, net.network_address + 1,
                           subnet6=IPv6Network("2001:389::/64"),
                           gateway6=IPv6Address("2001:389::ffff"),
                           ip_range6=IPv6Network("2001:389::1:0/112"))
    first = record.allocate("a" * 64)
    asked = record.allocate("b" * 64, requested6=IPv6Address("2001:389::f00d"))
    assert (str(first.address6), str(asked.address6)) == ("2001:389::1:0/64",
                                                           "2001:389::f00d/64")
    again = NetworkRecord.from_json(record.to_json())
    assert again.ip_range6 == IPv6Network("2001:389::1:0/112")
    assert again.allocate("c" * 64).address6 == IPv6Interface("2001:389::1:1/64")
    with pytest.raises(InvalidArgument, match="no matching subnet for range"):
        NetworkRecord("x", "skiff-2", net, net.network_address + 1,
                      subnet6=IPv6Network("2001:389::/64"), ip_range6=IPv6Network("fd00::/96"))


def test_an_ipv4_network_has_no_ipv6_and_old_records_read_as_such(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    (tmp_path / "networks" / "old.json").write_text(json.dumps({
        "name": "old", "bridge": "skiff-2", "subnet": "10.90.0.0/24", "gateway": "10.90.0.1",
        "endpoints": {"f" * 64: {"address": "10.90.0.2/24", "names": ["web"]}}}))
    records = ipam.read()
    assert records["old"].subnet6 is None and records["old"].endpoints["f" * 64].address6 is None
    assert "subnet6" not in records["appnet"].to_json()
    with ipam.transaction() as changing:
        endpoint = changing["appnet"].allocate("a" * 64)
        assert endpoint.address6 is None
        with pytest.raises(InvalidArgument, match="has no IPv6"):
            changing["appnet"].allocate("b" * 64, requested6=IPv6Address("fd00::5"))


def test_a_released_endpoint_with_a_veth_keeps_what_it_had_until_settled(
        tmp_path: Path) -> None:
    """Its addresses and MAC address stay taken (the veth may still be on the bridge)
    until settle hears that the veth is gone; one without a veth is free at once."""
    from engine.helper.network.endpoints import check_mac
    from engine.helper.network.ipam import Endpoint

    net = IPv4Network("10.89.0.0/24")
    record = NetworkRecord("appnet", "skiff-1", net, net.network_address + 1,
                           ip_range=IPv4Network("10.89.0.8/31"),
                           subnet6=IPv6Network("fd00:89::/64"))
    first = record.allocate("c1")
    first.veth = "veth00000001"
    record.allocate("c2")
    record.release("c1")
    assert record.endpoints.keys() == {"c2"} and record.leaving.keys() == {"veth00000001"}
    with pytest.raises(Conflict, match="no free address left"):
        record.allocate("c3")
    assert record.allocate("c4", requested6=None, requested=IPv4Address("10.89.0.50")
                           ).address6 != first.address6
    stranger = Endpoint("c5", IPv4Interface("10.89.0.60/24"), mac_address=first.mac)
    with pytest.raises(InUse, match="already in use"):
        check_mac(stranger, record)
    again = NetworkRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert again.leaving == record.leaving
    asked: list[str] = []
    record.settle(lambda veth, gone: asked.append(veth) or False)  # still there
    assert asked == ["veth00000001"] and "veth00000001" in record.leaving
    record.settle(lambda veth, gone: gone.container_id == "c1")
    assert record.leaving == {}
    assert record.allocate("c3").address == first.address
    record.release("c3")  # no veth recorded: nothing to wait for
    assert record.leaving == {} and record.allocate("c6").address == first.address


def test_only_changes_to_the_network_itself_wait_for_the_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Endpoints last no longer than the boot (repair releases them after one): their
    changes are atomic but not fsynced; a new network or a changed one is."""
    import os

    from engine.helper.network import ipam as ipam_module

    synced: list[int] = []
    monkeypatch.setattr(ipam_module.os, "fsync", lambda fd: synced.append(fd))
    ipam = _ipam(tmp_path)
    assert synced  # the new record, and its directory
    synced.clear()
    ipam.allocate("appnet", "c1")
    ipam.release("appnet", "c1")
    assert synced == []
    assert "c1" in Ipam(tmp_path / "networks").read()["appnet"].previous
    with ipam.transaction() as records:
        records["appnet"].internal = True
    assert len(synced) == 1
    assert not any(name.endswith(".tmp") for name in os.listdir(tmp_path / "networks"))


def test_addresses_released_lately_are_handed_out_last() -> None:
    record = NetworkRecord("appnet", "b", IPv4Network("10.89.7.0/29"), IPv4Address("10.89.7.1"))
    record.previous = {"gone": "10.89.7.2", "left": "10.89.7.4"}
    got = [record.allocate(cid).address.ip for cid in ("a", "b", "c", "d")]
    assert got == [IPv4Address(f"10.89.7.{i}") for i in (3, 5, 6, 2)]  # .2: the only one left


def test_aux_addresses_are_never_handed_out_and_are_kept(tmp_path: Path) -> None:
    ipam = Ipam(tmp_path / "networks")
    net, net6 = IPv4Network("10.89.0.0/29"), IPv6Network("fd12::/124")
    aux = {"a": IPv4Address("10.89.0.2"), "b": IPv4Address("10.89.0.4"),
           "c": IPv6Address("fd12::2")}
    with ipam.transaction() as records:
        records["appnet"] = NetworkRecord("appnet", "skiff-1", net, net.network_address + 1,
                                          subnet6=net6, aux=aux)
    with ipam.transaction() as records:
        with pytest.raises(Conflict, match=r"10\.89\.0\.4 is already in use"):
            records["appnet"].allocate("d", IPv4Address("10.89.0.4"))
        with pytest.raises(Conflict, match="fd12::2 is already in use"):
            records["appnet"].allocate("e", None, aux["c"])
    with ipam.transaction() as records:
        given = [records["appnet"].allocate(f"c{i}") for i in range(3)]
    assert {str(e.address.ip) for e in given} == {"10.89.0.3", "10.89.0.5", "10.89.0.6"}
    assert all(e.address6 is not None and e.address6.ip != aux["c"] for e in given)
    assert ipam.read()["appnet"].aux == aux
    for bad, message in (({"x": IPv4Address("10.90.0.2")}, "no matching subnet"),
                         ({"x": IPv4Address("10.89.0.1")}, "gateway"),
                         ({"x": IPv6Address("fd12::9")}, "no matching subnet")):
        with pytest.raises(InvalidArgument, match=message):
            NetworkRecord("bad", "skiff-2", net, net.network_address + 1, aux=bad)
