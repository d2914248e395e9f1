"""engine.containers.inspect's typed answer: what the helper reports reads into it,
and its docker_json is docker container inspect's document."""

from __future__ import annotations

from engine.containers.config import ContainerConfig
from engine.containers.details import (
    ContainerDetails,
    EndpointSettings,
    HostPort,
    MountPoint,
    NetworkSettings,
)
from engine.containers.imageconfig import merge_config
from engine.containers.model import Container
from engine.containers.state import ContainerState, Status

# a started container's network.json, as engine/helper/network/verbs.py writes it
NETWORK_JSON = {
    "IPAddress": "10.88.0.2", "IPPrefixLen": 16, "Gateway": "10.88.0.1",
    "MacAddress": "02:42:0a:58:00:02", "SandboxKey": "netns",
    "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": None},
    "Networks": {"bridge": {"NetworkName": "bridge", "IPAddress": "10.88.0.2",
                            "IPPrefixLen": 16, "Gateway": "10.88.0.1",
                            "MacAddress": "02:42:0a:58:00:02", "Aliases": ["web"],
                            "Name": "web-1"}},
}


def test_the_helper_s_network_json_reads_typed() -> None:
    settings = NetworkSettings.from_helper(NETWORK_JSON)
    assert settings.ports == {"80/tcp": (HostPort("0.0.0.0", "8080"),), "443/tcp": None}
    assert settings.networks == {"bridge": EndpointSettings(
        ip_address="10.88.0.2", ip_prefix_len=16, gateway="10.88.0.1",
        mac_address="02:42:0a:58:00:02", aliases=("web",))}
    assert (settings.ip_address, settings.sandbox_key) == ("10.88.0.2", "netns")


def test_what_the_helper_mistypes_is_unset() -> None:
    settings = NetworkSettings.from_helper({"IPPrefixLen": "16", "Networks": {"a": 3, "b": {
        "IPAddress": 7, "Aliases": "x", "GlobalIPv6PrefixLen": True}}, "Ports": []})
    assert settings == NetworkSettings(networks={"b": EndpointSettings()})


def test_endpoints_show_docker_s_keys() -> None:
    endpoint = EndpointSettings(ip_address="10.88.0.2", ip_prefix_len=16, aliases=("db",),
                                ipv4_requested="10.88.0.2", network_id="n" * 64,
                                endpoint_id="e" * 64, global_ipv6_address="fd00::2",
                                global_ipv6_prefix_len=64, ipv6_gateway="fd00::1")
    assert endpoint.docker_json() == {
        "IPAMConfig": {"IPv4Address": "10.88.0.2"}, "Links": None, "Aliases": ["db"],
        "MacAddress": "", "DriverOpts": None, "NetworkID": "n" * 64, "EndpointID": "e" * 64,
        "Gateway": "", "IPAddress": "10.88.0.2", "IPPrefixLen": 16,
        "IPv6Gateway": "fd00::1", "GlobalIPv6Address": "fd00::2", "GlobalIPv6PrefixLen": 64,
        "DNSNames": None}
    # not connected: no IDs, as docker shows a stopped container's networks
    assert "NetworkID" not in EndpointSettings().docker_json()
    assert EndpointSettings(ipv6_requested="fd00::9").docker_json()["IPAMConfig"] == {
        "IPv6Address": "fd00::9"}


def test_mounts_show_as_docker_shows_them() -> None:
    volume = MountPoint("volume", "/var/lib/skiff/v/_data", "/data", name="v", mode="z")
    assert volume.docker_json() == {
        "Type": "volume", "Name": "v", "Source": "/var/lib/skiff/v/_data",
        "Destination": "/data", "Driver": "local", "Mode": "z", "RW": True,
        "Propagation": ""}
    bind = MountPoint("bind", "/srv", "/site", read_only=True, propagation="rprivate")
    assert bind.docker_json() == {"Type": "bind", "Source": "/srv", "Destination": "/site",
                                  "Mode": "", "RW": False, "Propagation": "rprivate"}


def test_the_document_is_built_from_the_fields() -> None:
    config = ContainerConfig(image="busybox", image_id="sha256:" + "a" * 64,
                             entrypoint=["/init"], cmd=["serve"])
    container = Container("c" * 64, "web", "2026-12-07T12:00:00.000000000Z", config,
                          ContainerState(status=Status.EXITED, exit_code=3))
    details = ContainerDetails(
        container, merge_config(config, {"Env": ["PATH=/bin"], "WorkingDir": "/srv"}),
        ["/init", "serve"], ["PATH=/bin"], "/logs/ctr.log",
        NetworkSettings.from_helper(NETWORK_JSON),
        mounts=(MountPoint("tmpfs", "", "/run"),), hosts_path="/c/hosts")
    assert (details.id, details.name, details.state.exit_code) == ("c" * 64, "web", 3)
    doc = details.docker_json()
    assert (doc["Id"], doc["Name"], doc["Path"], doc["Args"]) == (
        "c" * 64, "/web", "/init", ["serve"])
    assert (doc["State"]["Status"], doc["State"]["ExitCode"]) == ("exited", 3)
    assert (doc["Config"]["Env"], doc["Config"]["WorkingDir"]) == (["PATH=/bin"], "/srv")
    assert (doc["LogPath"], doc["HostsPath"], doc["ResolvConfPath"]) == (
        "/logs/ctr.log", "/c/hosts", "")
    assert doc["Mounts"] == [{"Type": "tmpfs", "Source": "", "Destination": "/run",
                              "Mode": "", "RW": True, "Propagation": ""}]
    network = doc["NetworkSettings"]
    assert network["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                                "443/tcp": None}
    assert network["Networks"]["bridge"]["Aliases"] == ["web"]
    assert "NetworkName" not in network["Networks"]["bridge"]
    assert (network["Bridge"], network["HairpinMode"], network["SandboxKey"]) == (
        "", False, "netns")
