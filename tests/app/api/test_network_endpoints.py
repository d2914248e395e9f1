"""An endpoint's own settings at ``POST /networks/{id}/connect`` and at create
(EndpointConfig.MacAddress), through docker-py and the real docker CLI (28.x),
on real containers."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
from docker.errors import APIError

pytestmark = pytest.mark.root

Docker = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def network(client: docker.DockerClient) -> Iterator[Any]:
    made = client.networks.create("apiep-net", ipam=docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet="10.231.91.0/24")]))
    yield made
    for container in client.containers.list(all=True, filters={"network": made.id}):
        container.remove(force=True)
    made.remove()


def _address_of(container: Any, interface: str) -> str:
    code, out = container.exec_run(["cat", f"/sys/class/net/{interface}/address"])
    assert code == 0, out
    return str(out.decode().strip())


def test_mac_address_at_connect_of_a_running_container(client: docker.DockerClient,
                                                       network: Any) -> None:
    container = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        client.api.connect_container_to_network(container.id, network.id,
                                                mac_address="02:42:AC:11:00:99")
        container.reload()
        assert container.attrs["NetworkSettings"]["Networks"]["apiep-net"]["MacAddress"] \
            == "02:42:ac:11:00:99"
        assert _address_of(container, "eth1") == "02:42:ac:11:00:99"
        container.restart(timeout=1)  # kept across restarts, as the connection is
        assert _address_of(container, "eth1") == "02:42:ac:11:00:99"
    finally:
        container.remove(force=True)


def test_mac_address_at_connect_of_a_created_container(client: docker.DockerClient,
                                                       network: Any) -> None:
    container = client.containers.create("busybox", ["sleep", "60"])
    try:
        client.api.connect_container_to_network(container.id, network.id,
                                                mac_address="02:42:ac:11:00:98")
        container.reload()  # docker-py's test_connect_with_mac_address: shown before start
        assert container.attrs["NetworkSettings"]["Networks"]["apiep-net"]["MacAddress"] \
            == "02:42:ac:11:00:98"
        container.start()
        assert _address_of(container, "eth1") == "02:42:ac:11:00:98"
        assert _address_of(container, "eth0") != "02:42:ac:11:00:98"
    finally:
        container.remove(force=True)


def test_a_bad_or_taken_mac_address_is_refused(client: docker.DockerClient,
                                               network: Any) -> None:
    first = client.containers.run("busybox", ["sleep", "60"], detach=True,
                                  network="apiep-net", mac_address="02:42:ac:11:00:97")
    second = client.containers.run("busybox", ["sleep", "60"], detach=True)
    try:
        for mac, text in (("zz:42:ac:11:00:97", "is not a valid mac address"),
                          ("03:42:ac:11:00:97", "use a unicast one"),
                          ("02:42:ac:11:00:97", "already in use on network apiep-net")):
            with pytest.raises(APIError, match=text):
                client.api.connect_container_to_network(second.id, network.id,
                                                        mac_address=mac)
        client.api.connect_container_to_network(second.id, network.id)  # without: fine
        second.reload()
        derived = second.attrs["NetworkSettings"]["Networks"]["apiep-net"]["MacAddress"]
        assert derived and derived != "02:42:ac:11:00:97"
    finally:
        first.remove(force=True)
        second.remove(force=True)


def test_docker_cli_run_with_a_mac_address_on_a_second_network(docker_cli: Docker,
                                                                network: Any) -> None:
    # docker 28 sends both networks in the create's EndpointsConfig, each with its MAC
    made = docker_cli("network", "create", "--subnet", "10.231.92.0/24", "apiep-two")
    assert made.returncode == 0, made.stderr
    try:
        result = docker_cli("run", "-d", "--name", "apiep-cli", "--network", "apiep-two",
                            "--network", "name=apiep-net,mac-address=02:42:ac:11:00:96",
                            "busybox", "sleep", "60")
        assert result.returncode == 0, result.stderr
        found = json.loads(docker_cli("inspect", "apiep-cli").stdout)[0]
        assert found["NetworkSettings"]["Networks"]["apiep-net"]["MacAddress"] \
            == "02:42:ac:11:00:96"
        out = docker_cli("exec", "apiep-cli", "ip", "-o", "link", "show")
        assert "02:42:ac:11:00:96" in out.stdout
    finally:
        docker_cli("rm", "-f", "apiep-cli")
        docker_cli("network", "rm", "apiep-two")


def _addresses(container: Any) -> str:
    code, out = container.exec_run(["ip", "-o", "addr", "show"])
    assert code == 0, out
    return str(out.decode())


def test_links_and_link_local_ips_at_create(client: docker.DockerClient, network: Any) -> None:
    upstream = client.containers.run("busybox", ["sleep", "60"], detach=True,
                                     name="apiep-upstream", network="apiep-net")
    api = client.api
    created = api.create_container(
        "busybox", ["sleep", "60"], host_config=api.create_host_config(network_mode="apiep-net"),
        networking_config=api.create_networking_config({"apiep-net": api.create_endpoint_config(
            links=[("apiep-upstream", "bar")], link_local_ips=["169.254.8.8"])}))
    container = client.containers.get(created["Id"])
    try:
        container.start()
        container.reload()
        settings = container.attrs["NetworkSettings"]["Networks"]["apiep-net"]
        assert settings["Links"] == ["apiep-upstream:bar"]
        assert settings["IPAMConfig"]["LinkLocalIPs"] == ["169.254.8.8"]
        assert "inet 169.254.8.8/32" in _addresses(container)
        code, out = container.exec_run(["ping", "-c", "1", "-W", "5", "bar"])
        upstream.reload()
        upstream_ip = upstream.attrs["NetworkSettings"]["Networks"]["apiep-net"]["IPAddress"]
        assert code == 0 and upstream_ip in out.decode(), out
    finally:
        container.remove(force=True)
        upstream.remove(force=True)


def test_link_local_ips_on_the_default_bridge(client: docker.DockerClient) -> None:
    # docker-py's test_create_with_linklocal_ips
    api = client.api
    created = api.create_container(
        "busybox", ["sleep", "60"], host_config=api.create_host_config(network_mode="bridge"),
        networking_config=api.create_networking_config({"bridge": api.create_endpoint_config(
            link_local_ips=["169.254.8.9"])}))
    container = client.containers.get(created["Id"])
    try:
        container.start()
        container.reload()
        settings = container.attrs["NetworkSettings"]["Networks"]["bridge"]
        assert settings["IPAMConfig"]["LinkLocalIPs"] == ["169.254.8.9"]
        assert "inet 169.254.8.9/32" in _addresses(container)
    finally:
        container.remove(force=True)


def test_links_at_connect_are_kept_even_to_no_container(client: docker.DockerClient,
                                                        network: Any) -> None:
    # docker-py's test_connect_with_links: dockerd keeps a link to a container that
    # does not exist (its DNS answers nothing for it)
    container = client.containers.run("busybox", ["sleep", "60"], detach=True,
                                      network="apiep-net")
    try:
        client.api.disconnect_container_from_network(container.id, network.id)
        client.api.connect_container_to_network(container.id, network.id,
                                                links=[("apiep-nobody", "bar")],
                                                link_local_ips=["169.254.8.10"])
        container.reload()
        settings = container.attrs["NetworkSettings"]["Networks"]["apiep-net"]
        assert settings["Links"] == ["apiep-nobody:bar"]
        assert settings["IPAMConfig"]["LinkLocalIPs"] == ["169.254.8.10"]
        assert "inet 169.254.8.10/32" in _addresses(container)
        container.restart(timeout=1)
        assert "inet 169.254.8.10/32" in _addresses(container)
        with pytest.raises(APIError, match=r"invalid link-local IP address: 169\.254\.x"):
            client.api.connect_container_to_network(container.id, "bridge",
                                                    link_local_ips=["169.254.x"])
    finally:
        container.remove(force=True)


def test_docker_cli_network_connect_link_and_link_local_ip(docker_cli: Docker,
                                                           network: Any) -> None:
    for args in (("--name", "apiep-db", "--network", "apiep-net"), ("--name", "apiep-app")):
        started = docker_cli("run", "-d", *args, "busybox", "sleep", "60")
        assert started.returncode == 0, started.stderr
    try:
        done = docker_cli("network", "connect", "--link", "apiep-db:db", "--link-local-ip",
                          "169.254.8.11", "apiep-net", "apiep-app")
        assert done.returncode == 0, done.stderr
        assert "169.254.8.11/32" in docker_cli("exec", "apiep-app", "ip", "-o", "addr").stdout
        docker_cli("restart", "-t", "1", "apiep-app")  # its links' hosts entries: at start
        found = json.loads(docker_cli("inspect", "apiep-app").stdout)[0]
        settings = found["NetworkSettings"]["Networks"]["apiep-net"]
        assert settings["Links"] == ["apiep-db:db"]
        assert settings["IPAMConfig"]["LinkLocalIPs"] == ["169.254.8.11"]
        pinged = docker_cli("exec", "apiep-app", "ping", "-c", "1", "-W", "5", "db")
        assert pinged.returncode == 0, pinged.stdout + pinged.stderr
    finally:
        docker_cli("rm", "-f", "apiep-app", "apiep-db")
