"""IPAM AuxiliaryAddresses: reserved at network create, never handed out, shown in
inspect as dockerd shows them; through docker-py and the real docker CLI (28.x)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import docker
import pytest
from docker.errors import APIError

pytestmark = pytest.mark.root

Docker = Callable[..., subprocess.CompletedProcess[str]]


def test_docker_py_ipam_config_with_aux_addresses(client: docker.DockerClient) -> None:
    # docker-py's own test_create_network_with_ipam_config, on a /29 so the reserved
    # addresses are the ones a container would get otherwise
    pool = docker.types.IPAMPool(subnet="10.231.93.0/29", gateway="10.231.93.6",
                                 aux_addresses={"a": "10.231.93.1", "b": "10.231.93.2"})
    network = client.networks.create("apiaux-net",
                                     ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    try:
        assert network.attrs["IPAM"]["Options"] is None  # as dockerd: none given
        assert network.attrs["IPAM"]["Config"] == [{
            "Subnet": "10.231.93.0/29", "Gateway": "10.231.93.6",
            "AuxiliaryAddresses": {"a": "10.231.93.1", "b": "10.231.93.2"}}]
        out = client.containers.run("busybox", ["ip", "-4", "-o", "addr", "show", "eth0"],
                                    network="apiaux-net", remove=True).decode()
        assert "10.231.93.3/29" in out
        container = client.containers.create("busybox", ["true"])
        try:
            client.api.connect_container_to_network(container.id, network.id,
                                                    ipv4_address="10.231.93.2")
            with pytest.raises(APIError, match=r"10\.231\.93\.2 is already in use"):
                container.start()
        finally:
            container.remove(force=True)
    finally:
        network.remove()


def test_an_aux_address_outside_the_subnet_is_refused(client: docker.DockerClient) -> None:
    pool = docker.types.IPAMPool(subnet="10.231.94.0/24", aux_addresses={"a": "10.231.95.1"})
    with pytest.raises(APIError, match=r"aux-address 10\.231\.95\.1"):
        client.networks.create("apiaux-bad", ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    gateway = docker.types.IPAMPool(subnet="10.231.94.0/24", aux_addresses={"gw": "10.231.94.1"})
    with pytest.raises(APIError, match=r"\(gw:10.231.94.1\)"):
        client.networks.create("apiaux-bad",
                               ipam=docker.types.IPAMConfig(pool_configs=[gateway]))
    assert client.networks.list(names=["apiaux-bad"]) == []


def test_docker_cli_network_create_aux_address(docker_cli: Docker) -> None:
    made = docker_cli("network", "create", "--subnet", "10.231.96.0/24",
                      "--aux-address", "router=10.231.96.2", "apiaux-cli")
    assert made.returncode == 0, made.stderr
    try:
        found = json.loads(docker_cli("network", "inspect", "apiaux-cli").stdout)[0]
        assert found["IPAM"]["Config"][0]["AuxiliaryAddresses"] == {"router": "10.231.96.2"}
        taken = docker_cli("run", "--rm", "--network", "apiaux-cli", "--ip", "10.231.96.2",
                           "busybox", "true")
        assert taken.returncode != 0 and "already in use" in taken.stderr
    finally:
        docker_cli("network", "rm", "apiaux-cli")
