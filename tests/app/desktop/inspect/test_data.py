from __future__ import annotations

from pathlib import Path

from app.desktop.inspect.data import MountRow, PortRow, mounts, ports


def test_published_ports_get_links() -> None:
    doc = {"NetworkSettings": {"Ports": {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
        "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8443"}],
        "53/udp": [{"HostIp": "", "HostPort": "5353"}],
        "9000/tcp": None}},
        "Config": {"ExposedPorts": {"9000/tcp": {}, "7000/tcp": {}}}}
    rows = ports(doc)
    assert [r.container for r in rows] == ["53/udp", "80/tcp", "443/tcp", "7000/tcp", "9000/tcp"]
    assert rows[0].url == ""  # udp: nothing to open
    assert rows[1] == PortRow("80/tcp", "0.0.0.0", "8080", "http://localhost:8080")
    assert rows[2].url == "https://127.0.0.1:8443"
    assert rows[3].description == "not published"


def test_configured_ports_when_not_running() -> None:
    doc = {"HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "::1", "HostPort": "81"}]}}}
    assert ports(doc)[0].url == "http://[::1]:81"


def test_mounts_and_their_folders(tmp_path: Path) -> None:
    doc = {"HostConfig": {"Mounts": [
        {"Type": "bind", "Source": str(tmp_path), "Target": "/data", "ReadOnly": True},
        {"Type": "volume", "Source": "cache", "Target": "/cache"}]}}
    rows = mounts(doc)
    assert rows[0] == MountRow("bind", str(tmp_path), "/data", True)
    assert rows[0].folder == tmp_path
    assert rows[1].folder is None
    live = {"Mounts": [{"Type": "volume", "Source": str(tmp_path), "Destination": "/v",
                        "RW": True}]}
    assert mounts(live) == [MountRow("volume", str(tmp_path), "/v", False)]
