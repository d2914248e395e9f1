"""Network records on disk: endpoints' changes go in place to the older of two copies,
the record's file is replaced only when the network itself changes, and a crash at
any point leaves the old or the new record (engine/helper/network/recordfiles.py)."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from engine.helper.network.ipam import Ipam, NetworkRecord


def _ipam(tmp_path: Path) -> Ipam:
    ipam = Ipam(tmp_path / "networks")
    with ipam.transaction() as records:
        net = IPv4Network("10.89.0.0/24")
        records["appnet"] = NetworkRecord("appnet", "skiff-1", net, net.network_address + 1)
    return ipam


def test_an_endpoints_change_leaves_the_file_as_it_is(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    path = ipam.directory / "appnet.json"
    before = path.stat().st_ino, path.read_text()
    for name in ("a", "b", "c"):
        ipam.allocate("appnet", name)
    ipam.release("appnet", "b")
    assert (path.stat().st_ino, path.read_text()) == before
    assert "endpoints" not in json.loads(before[1])  # what the network is, only
    assert list(Ipam(ipam.directory).read()["appnet"].endpoints) == ["a", "c"]
    with ipam.transaction() as records:  # the network itself changes: its file too
        records["appnet"].internal = True
    assert path.stat().st_ino != before[0] and json.loads(path.read_text())["internal"]
    assert list(ipam.read()["appnet"].endpoints) == ["a", "c"]


def test_a_copy_a_crash_cut_short_gives_the_record_before(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    ipam.allocate("appnet", "a")
    ipam.allocate("appnet", "b")  # the newest copy: the other one holds "a" only
    newest = max(ipam.directory.glob(".appnet.?"), key=lambda p: p.read_bytes().split()[0])
    whole = newest.read_bytes()
    torn = whole.replace(b'"10.89.0.3/24"', b'"10.89.0.9/24"')  # old and new pages mixed
    assert torn != whole
    for cut in (whole[:len(whole) // 2], torn, b""):
        newest.write_bytes(cut)
        assert list(ipam.read()["appnet"].endpoints) == ["a"]
    ipam.allocate("appnet", "c")  # written over the spoilt copy: the newest again
    assert list(ipam.read()["appnet"].endpoints) == ["a", "c"]


def test_after_a_machine_crash_without_the_copies_the_file_is_the_record(
        tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    ipam.allocate("appnet", "a")
    for copy in ipam.directory.glob(".appnet.?"):
        copy.unlink()
    record = ipam.read()["appnet"]
    assert (record.subnet, record.endpoints) == (IPv4Network("10.89.0.0/24"), {})
    assert ipam.allocate("appnet", "b") == ipam.allocate("appnet", "b")


def test_a_file_an_older_skiff_wrote_wins(tmp_path: Path) -> None:
    """Its file held the whole record, without a generation: read as it is (also when
    it was written after the copies, by an older Skiff's monitor still running), then
    written again with one at the next save."""
    ipam = _ipam(tmp_path)
    ipam.allocate("appnet", "new")
    path = ipam.directory / "appnet.json"
    old = ipam.read()["appnet"].to_json()
    old["endpoints"] = {"old": {"address": "10.89.0.50/24", "names": ["old-1"]}}
    path.write_text(json.dumps(old))
    assert list(ipam.read()["appnet"].endpoints) == ["old"]
    ipam.allocate("appnet", "next")
    assert "generation" in json.loads(path.read_text())
    assert list(ipam.read()["appnet"].endpoints) == ["next", "old"]
    assert ipam.read()["appnet"].endpoints["old"].address.ip == IPv4Address("10.89.0.50")


def test_a_removed_record_leaves_no_file(tmp_path: Path) -> None:
    ipam = _ipam(tmp_path)
    ipam.allocate("appnet", "a")
    with ipam.transaction() as records:
        del records["appnet"]
    assert sorted(p.name for p in ipam.directory.iterdir()) == [".lock"]
