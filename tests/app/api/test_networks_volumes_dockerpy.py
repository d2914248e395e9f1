"""Networks, volumes and disk usage through docker-py against ``skiff serve``."""

from __future__ import annotations

import contextlib

import docker
import pytest
from docker.errors import APIError, NotFound

from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root


def test_network_lifecycle(client: docker.DockerClient) -> None:
    ipam = docker.types.IPAMConfig(pool_configs=[
        docker.types.IPAMPool(subnet="10.231.7.0/24", gateway="10.231.7.1")])
    network = client.networks.create("apitest-net", driver="bridge", ipam=ipam,
                                     labels={"team": "api"})
    try:
        assert network.name == "apitest-net" and len(network.id) == 64
        config = network.attrs["IPAM"]["Config"]
        assert config == [{"Subnet": "10.231.7.0/24", "Gateway": "10.231.7.1"}]
        assert network.attrs["Labels"] == {"team": "api"}
        assert [n.name for n in client.networks.list(filters={"label": "team=api"})] \
            == ["apitest-net"]
        assert client.networks.list(filters={"label": "team=other"}) == []
        assert [n.name for n in client.networks.list(names=["apitest-net"])] == ["apitest-net"]
        names = {n.name for n in client.networks.list(filters={"type": "builtin"})}
        assert names == {"bridge", "host", "none"}
        assert client.networks.get(network.id[:12]).name == "apitest-net"
        with pytest.raises(APIError, match="network with name apitest-net already exists"):
            client.networks.create("apitest-net")
        # an IPv6 subnet without EnableIPv6 is passed over, as dockerd does
        v4only = client.networks.create("apitest-v6", ipam=docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet="fd5a:1:2:9::/64")]))
        assert v4only.attrs["EnableIPv6"] is False
        assert [c["Subnet"].count(":") for c in v4only.attrs["IPAM"]["Config"]] == [0]
        v4only.remove()

        container = client.containers.create("busybox", ["sleep", "30"], name="apitest-c")
        try:
            network.connect(container, aliases=["db"], ipv4_address="10.231.7.9")
            container.start()
            network.reload()
            [endpoint] = network.attrs["Containers"].values()
            assert endpoint["Name"] == "apitest-c"
            assert endpoint["IPv4Address"].startswith("10.231.7.9/")
            container.reload()
            settings = container.attrs["NetworkSettings"]["Networks"]["apitest-net"]
            assert settings["IPAddress"] == "10.231.7.9"
            assert "db" in (settings.get("Aliases") or [])
            with pytest.raises(APIError, match=r"active endpoints|in use"):
                network.remove()
            network.disconnect(container)
            container.reload()
            assert "apitest-net" not in container.attrs["NetworkSettings"]["Networks"]
        finally:
            container.remove(force=True)

    finally:
        network.remove()
    with pytest.raises(NotFound, match="network apitest-net not found"):
        client.networks.get("apitest-net")
    # a network made again under the name starts without the old one's labels
    again = client.networks.create("apitest-net")
    try:
        assert again.attrs["Labels"] == {}
    finally:
        again.remove()


def test_network_prune(client: docker.DockerClient) -> None:
    client.networks.create("apitest-unused")
    result = client.networks.prune()
    assert "apitest-unused" in result["NetworksDeleted"]
    with pytest.raises(NotFound):
        client.networks.get("apitest-unused")


def test_volume_lifecycle(client: docker.DockerClient) -> None:
    volume = client.volumes.create("apitest-vol", labels={"team": "api"})
    try:
        assert volume.name == "apitest-vol"
        assert volume.attrs["Driver"] == "local" and volume.attrs["Labels"] == {"team": "api"}
        assert client.volumes.get("apitest-vol").attrs["Mountpoint"]
        listed = client.api.volumes()
        assert listed["Warnings"] == [] or listed["Warnings"] is None
        assert "apitest-vol" in [v["Name"] for v in listed["Volumes"]]
        assert [v.name for v in client.volumes.list(filters={"label": "team=api"})] \
            == ["apitest-vol"]
        assert "apitest-vol" in [v.name for v in client.volumes.list(
            filters={"dangling": True})]
        container = client.containers.create(
            "busybox", ["true"], volumes={"apitest-vol": {"bind": "/data", "mode": "rw"}})
        try:
            assert "apitest-vol" not in [v.name for v in client.volumes.list(
                filters={"dangling": True})]
            with pytest.raises(APIError, match="volume is in use"):
                volume.remove()
        finally:
            container.remove(force=True)
    finally:
        volume.remove()
    with pytest.raises(NotFound, match="no such volume"):
        client.volumes.get("apitest-vol")
    with pytest.raises(APIError, match=r"not supported|not found"):
        client.volumes.create("apitest-nfs", driver="nfs")


def test_volume_prune_takes_anonymous_volumes_unless_all(client: docker.DockerClient) -> None:
    named = client.volumes.create("apitest-keep")
    anonymous = client.volumes.create()
    try:
        result = client.volumes.prune()
        assert anonymous.name in (result["VolumesDeleted"] or [])
        assert "apitest-keep" not in (result["VolumesDeleted"] or [])
        result = client.volumes.prune(filters={"all": "true"})
        assert "apitest-keep" in result["VolumesDeleted"]
    finally:
        for volume in client.volumes.list():
            if volume.name == named.name:
                volume.remove()


def test_disk_usage(client: docker.DockerClient) -> None:
    usage = client.df()
    assert usage["LayersSize"] > 0
    busybox = [i for i in usage["Images"] if "busybox:latest" in i["RepoTags"]]
    assert busybox and busybox[0]["Containers"] >= 0
    assert usage["BuildCache"] == []
    assert isinstance(usage["Volumes"], list) and isinstance(usage["Containers"], list)


def test_reconnect_to_its_own_network(client: docker.DockerClient) -> None:
    network = client.networks.create("apitest-own", ipam=docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet="10.231.8.0/24")]))
    try:
        container = client.containers.run("busybox", ["sleep", "30"], detach=True,
                                          network="apitest-own")
        try:
            with pytest.raises(APIError, match="already exists in network apitest-own"):
                network.connect(container)
            network.disconnect(container)
            network.connect(container, ipv4_address="10.231.8.40")
            container.reload()
            settings = container.attrs["NetworkSettings"]["Networks"]["apitest-own"]
            assert settings["IPAMConfig"] == {"IPv4Address": "10.231.8.40"}
            assert settings["IPAddress"] == "10.231.8.40"
            assert settings["DriverOpts"] is None and settings["GlobalIPv6Address"] == ""
        finally:
            container.remove(force=True)
    finally:
        network.remove()
    with pytest.raises(NotFound, match='plugin "overlay" not found'):
        client.networks.create("apitest-overlay", driver="overlay")


def test_no_swarm(api_server: ApiServer) -> None:
    answer = api_server.request("POST", "/v1.47/swarm/leave?force=1")
    assert (answer.status, answer.json()) == (503, {"message": "This node is not part of a "
                                                               "swarm"})
    assert api_server.request("GET", "/services").status == 503


def test_prune_filters(client: docker.DockerClient) -> None:
    kept = client.networks.create("apitest-keepme", labels={"keep": "1"})
    gone = client.networks.create("apitest-goes", labels={"tmp": "1"})
    volume = client.volumes.create("apitest-labelled", labels={"tmp": "1"})
    other = client.volumes.create("apitest-other")
    try:
        assert client.networks.prune(filters={"until": "2000-01-01"})["NetworksDeleted"] \
            in (None, [])
        deleted = client.networks.prune(filters={"label!": "keep"})["NetworksDeleted"]
        assert "apitest-goes" in deleted and "apitest-keepme" not in deleted
        result = client.volumes.prune(filters={"all": "true", "label": "tmp=1"})
        assert result["VolumesDeleted"] == ["apitest-labelled"]
        with pytest.raises(APIError, match="failed to parse value"):
            client.images.prune(filters={"until": "yesterday-ish"})
    finally:
        kept.remove()
        for leftover in (gone, volume):
            with contextlib.suppress(NotFound):
                leftover.remove()
        other.remove()


def test_addresses_links_and_internal_networks_through_docker_py(
        client: docker.DockerClient) -> None:
    network = client.networks.create("apitest-inner", internal=True, ipam=docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet="10.231.81.0/24",
                                            iprange="10.231.81.64/26")]))
    made: list[str] = []
    try:
        assert network.attrs["Internal"] is True
        assert network.attrs["IPAM"]["Config"][0]["IPRange"] == "10.231.81.64/26"
        db = client.containers.run(
            "busybox", ["sh", "-c", "echo db > /i && exec httpd -f -p 80 -h /"], detach=True,
            name="apitest-db", network="apitest-inner")
        made.append(db.id)
        db.reload()
        address = db.attrs["NetworkSettings"]["Networks"]["apitest-inner"]["IPAddress"]
        assert 64 <= int(address.rsplit(".", 1)[1]) < 128  # from the range
        config = client.api.create_networking_config({
            "apitest-inner": client.api.create_endpoint_config(ipv4_address="10.231.81.9")})
        web = client.api.create_container(
            "busybox", ["sh", "-c", "ip -4 -o addr show eth0; for i in $(seq 20); do "
                        "wget -q -O - http://database/i && exit; sleep 0.2; done"],
            networking_config=config, host_config=client.api.create_host_config(
                network_mode="apitest-inner", links={"apitest-db": "database"}))
        made.append(web["Id"])
        client.api.start(web["Id"])
        assert client.api.wait(web["Id"])["StatusCode"] == 0
        out = client.api.logs(web["Id"]).decode()
        assert "inet 10.231.81.9/24" in out and "db\n" in out
        links = client.api.inspect_container(web["Id"])["HostConfig"]["Links"]
        assert links == [f"/apitest-db:/{client.api.inspect_container(web['Id'])['Name'][1:]}"
                         "/database"]
    finally:
        for cid in made:
            client.api.remove_container(cid, force=True)
        network.remove()


def test_a_stopped_container_shows_the_endpoint_asked(client: docker.DockerClient) -> None:
    """NetworkSettings.Networks[own] Aliases and DriverOpts are the ones asked at create,
    before the container runs and after it ended (docker-py's run with networking_config)."""
    api = client.api
    network = api.create_network("apialiasnet")["Id"]
    made = api.create_container("busybox", "true", networking_config=api.create_networking_config(
        {"apialiasnet": api.create_endpoint_config(aliases=["hello"],
                                                   driver_opt={"key1": "a"})}),
        host_config=api.create_host_config(network_mode="apialiasnet"))
    try:
        def endpoint() -> tuple[object, object]:
            found = api.inspect_container(made)["NetworkSettings"]["Networks"]["apialiasnet"]
            return found["Aliases"], found["DriverOpts"]

        assert endpoint() == (["hello"], {"key1": "a"})
        api.start(made)
        api.wait(made)
        assert endpoint() == (["hello"], {"key1": "a"})
    finally:
        api.remove_container(made, force=True)
        api.remove_network(network)
