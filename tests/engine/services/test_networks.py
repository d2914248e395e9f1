"""engine.networks with real containers: extra networks across restarts, addresses
chosen at create, internal networks, address ranges, aliases in inspect."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, RestartPolicy
from engine.errors import Conflict, InUse, InvalidArgument, InvalidState, NotFound

pytestmark = pytest.mark.root


def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd),
                           **options)  # type: ignore[arg-type]


async def eventually(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.05)


async def _logs(engine: Engine, cid: str) -> str:
    return "".join([line.data.decode() + "\n" async for line in engine.containers.logs(cid)])


async def test_a_restart_by_policy_keeps_both_networks(engine: Engine) -> None:
    await engine.networks.create("skiff-test-one")
    await engine.networks.create("skiff-test-two")
    try:
        # Each run counts its interfaces with an address, then exits 1: the monitor
        # restarts it. The first run has both too: they are joined before it runs.
        made = await engine.containers.create(config(
            "sh", "-c", "echo run; ip -4 -o addr show | grep -v ' lo ' | wc -l; sleep 0.3; "
            "exit 1", network="skiff-test-one",
            restart_policy=RestartPolicy("on-failure", 3)))
        await engine.networks.connect("skiff-test-two", made.id, aliases=["second"])
        await engine.containers.start(made.id)

        async def counted_runs() -> list[str]:
            """The counts the runs printed so far (a run may not have printed it yet)."""
            runs = (await _logs(engine, made.id)).split("run\n")[1:]
            return [r.split()[0] for r in runs if r.split()]

        async def three_restarts() -> bool:
            return len(await counted_runs()) >= 4

        await eventually(three_restarts)
        assert (await counted_runs())[:4] == ["2", "2", "2", "2"]
        await engine.containers.remove(made.id, force=True)
    finally:
        await engine.networks.remove("skiff-test-one")
        await engine.networks.remove("skiff-test-two")


async def test_addresses_chosen_at_create_on_every_network(engine: Engine) -> None:
    await engine.networks.create("skiff-test-front", subnet="10.231.41.0/24")
    await engine.networks.create("skiff-test-back", subnet="10.231.42.0/24")
    try:
        made = await engine.containers.create(config(
            "sh", "-c", "ip -4 -o addr show; sleep 30", network="skiff-test-front",
            ipv4_address="10.231.41.50"))
        await engine.networks.connect("skiff-test-back", made.id, ip="10.231.42.60")
        await engine.containers.start(made.id)

        async def both() -> bool:
            text = await _logs(engine, made.id)
            return "10.231.41.50/24" in text and "10.231.42.60/24" in text

        await eventually(both)
        details = await engine.containers.inspect(made.id)
        networks = details.network.networks
        assert networks["skiff-test-front"].ip_address == "10.231.41.50"
        assert networks["skiff-test-front"].ipv4_requested == "10.231.41.50"
        assert networks["skiff-test-back"].ipv4_requested == "10.231.42.60"
        assert details.docker_json()["NetworkSettings"]["Networks"]["skiff-test-back"][
            "IPAMConfig"] == {"IPv4Address": "10.231.42.60"}
        # the address is the container's: another one asking for it is refused at start
        other = await engine.containers.create(config(
            "true", network="skiff-test-front", ipv4_address="10.231.41.50"))
        # many at once (one look at the helper's endpoints) as each alone
        assert await engine.containers.inspect_many([made.id, other.id]) == [
            await engine.containers.inspect(made.id), await engine.containers.inspect(other.id)]
        with pytest.raises(Conflict, match=r"10\.231\.41\.50 is already in use"):
            await engine.containers.start(other.id)
        await engine.containers.remove(other.id)
        await engine.containers.remove(made.id, force=True)
    finally:
        await engine.networks.remove("skiff-test-front")
        await engine.networks.remove("skiff-test-back")


async def test_an_address_needs_a_user_network(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match="supported on user defined networks only"):
        await engine.containers.create(config("true", ipv4_address="10.88.0.9"))
    with pytest.raises(InvalidArgument, match=r"invalid IPv4 address: 10\.88\.0$"):
        await engine.containers.create(config("true", network="x", ipv4_address="10.88.0"))


async def test_an_internal_network_reaches_its_peers_and_nothing_else(engine: Engine) -> None:
    await engine.networks.create("skiff-test-inner", internal=True,
                                 subnet="10.231.43.0/24", ip_range="10.231.43.64/26")
    await engine.networks.create("skiff-test-outer", subnet="10.231.44.0/24")
    try:
        network = await engine.networks.inspect("skiff-test-inner")
        assert network.internal is True
        assert network.docker_json()["IPAM"]["Config"] == [{"Subnet": "10.231.43.0/24",
                                                            "Gateway": "10.231.43.1",
                                                            "IPRange": "10.231.43.64/26"}]
        # On the internal network first and the outer one too: its way out is the
        # outer network's gateway.
        server = await engine.containers.create(config(
            "sh", "-c", "ip route; echo hi > /i && exec httpd -f -p 80 -h /",
            network="skiff-test-inner"), name="inner-web")
        await engine.networks.connect("skiff-test-outer", server.id)
        await engine.containers.start(server.id)
        # Only on the internal network: no route out, the peer by name.
        probe = await engine.containers.create(config(
            "sh", "-c", "ip route; ip -4 -o addr show; "
            "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://inner-web/i && break; "
            "sleep 0.3; done; wget -q -T 2 -O - http://10.231.44.1/ || echo outer-failed",
            network="skiff-test-inner"))
        await engine.containers.start(probe.id)
        assert await engine.containers.wait(probe.id) == 0
        text = await _logs(engine, probe.id)
        assert "default" not in text
        address = text.split("inet 10.231.43.")[1].split("/")[0]
        assert 64 <= int(address) < 128  # from the range
        assert "hi\n" in text and "outer-failed" in text
        assert "default via 10.231.44.1" in await _logs(engine, server.id)
        await engine.containers.remove(probe.id)
        await engine.containers.remove(server.id, force=True)
    finally:
        await engine.networks.remove("skiff-test-inner")
        await engine.networks.remove("skiff-test-outer")


async def test_legacy_links_name_a_running_container(engine: Engine) -> None:
    server = await engine.containers.create(config(
        "sh", "-c", "echo linked > /i && exec httpd -f -p 80 -h /"), name="link-db")
    client = await engine.containers.create(config(
        "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://database/i && "
        "wget -q -O - http://link-db/i && exit 0; sleep 0.3; done; exit 1",
        links=["/link-db:/whatever/database"]), name="link-web")
    try:
        with pytest.raises(InvalidState, match="Cannot link to a non running container: "
                                               "/link-db AS /link-web/database"):
            await engine.containers.start(client.id)
        await engine.containers.start(server.id)
        await engine.containers.start(client.id)
        assert await engine.containers.wait(client.id) == 0, await _logs(engine, client.id)
        assert (await _logs(engine, client.id)).count("linked") == 2
        found = (await engine.containers.inspect(client.id)).docker_json()
        assert found["HostConfig"]["Links"] == ["/link-db:/link-web/database"]
    finally:
        await engine.containers.remove(client.id, force=True)
        await engine.containers.remove(server.id, force=True)
    with pytest.raises(InvalidArgument, match="can't be used with links"):
        await engine.containers.create(config("true", network="host", links=["xy"]))


def test_a_stopped_containers_network_can_go_as_on_docker(skiff_root: Path,
                                                         busybox_image: str) -> None:
    """Stop returns once the network let the container go (docker stop && docker network
    rm); a stopped container keeps naming the network and finds it gone at its start."""
    async def story() -> None:
        async with Engine() as engine:
            await engine.networks.create("skiff-test-gone")
            made = await engine.containers.create(
                config("sleep", "600", network="skiff-test-gone"))
            try:
                await engine.containers.start(made.id)
                with pytest.raises(InUse):
                    await engine.networks.remove("skiff-test-gone")
                await engine.containers.stop(made.id, timeout=0)
                await engine.networks.remove("skiff-test-gone")
                with pytest.raises(NotFound, match="network skiff-test-gone not found"):
                    await engine.containers.start(made.id)
                await engine.networks.create("skiff-test-gone")
                await engine.containers.start(made.id)
                await engine.containers.remove(made.id, force=True)
                await engine.networks.remove("skiff-test-gone")
            finally:
                with contextlib.suppress(NotFound):
                    await engine.containers.remove(made.id, force=True)
                with contextlib.suppress(NotFound):
                    await engine.networks.remove("skiff-test-gone")

    asyncio.run(story())


def test_an_ended_containers_network_can_go_once_it_was_waited_for(
        skiff_root: Path, busybox_image: str) -> None:
    """docker wait c && docker network rm n: the monitor records the exit before it
    releases the network (run --rm's removal overlaps the release); the network's
    removal waits for it."""
    async def story() -> None:
        async with Engine() as engine:
            await engine.networks.create("skiff-test-ended")
            made = await engine.containers.create(config("true", network="skiff-test-ended"))
            try:
                await engine.containers.start(made.id)
                assert await engine.containers.wait(made.id) == 0
                await engine.networks.remove("skiff-test-ended")
                await engine.containers.remove(made.id)
            finally:
                with contextlib.suppress(NotFound):
                    await engine.containers.remove(made.id, force=True)
                with contextlib.suppress(NotFound):
                    await engine.networks.remove("skiff-test-ended")

    asyncio.run(story())


async def test_an_ended_containers_removal_leaves_nothing_behind(engine: Engine) -> None:
    """run --rm: the removal does not wait for the monitor's release of the network,
    which goes on beside it (and may find the directory moved): in the end neither
    the endpoint, the sandbox, the veth nor the container's files are left."""
    containers = engine.system.helper_root / "users" / "0" / "containers"
    for _ in range(3):  # the release before, during or after the removal's move
        made = await engine.containers.create(config("true"))
        await engine.containers.start(made.id)
        assert await engine.containers.wait(made.id) == 0
        await engine.containers.remove(made.id)

        async def gone(cid: str = made.id) -> bool:
            inspected = (await engine.networks.get("bridge")).docker_json()
            links = [Path(f"/sys/class/net/{name}/ifalias")
                     for name in os.listdir("/sys/class/net")]
            return (cid not in inspected["Containers"]
                    and cid not in Path("/proc/self/mountinfo").read_text()
                    and not (containers / f".{cid}.removing").exists()
                    and not any(link.exists() and link.read_text().strip() == f"skiff:{cid}"
                                for link in links))

        await eventually(gone)
