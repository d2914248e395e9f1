"""Containers on networks: published ports, names, none and host.

Traffic stays on this machine: between the host and containers on the
session's own bridges (named after the test run, see tests/fixtures/engine.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import urllib.request
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, PortBinding
from engine.errors import InUse

pytestmark = pytest.mark.root

HTTPD = ["sh", "-c", "mkdir -p /www && echo hello from $(hostname) > /www/index.html && "
                     "exec httpd -f -p 80 -h /www"]


def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd),
                           **options)  # type: ignore[arg-type]


async def started(engine: Engine, *cmd: str, name: str = "", **options: object) -> str:
    container = await engine.containers.create(config(*cmd, **options), name=name)
    await engine.containers.start(container.id)
    return container.id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _fetch(url: str, timeout: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await asyncio.to_thread(
                lambda: urllib.request.urlopen(url, timeout=2).read().decode())
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


def _host_address() -> str:
    """One of this host's own non-loopback addresses."""
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":  # default route: its interface has an address
                iface = fields[0]
                import fcntl
                import struct

                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    packed = fcntl.ioctl(s, 0x8915, struct.pack("256s", iface.encode()[:15]))
                    return socket.inet_ntoa(packed[20:24])
    pytest.skip("this host has no default route, so no address of its own to test with")


async def test_published_port_answers_on_loopback_and_host_address(engine: Engine) -> None:
    port = _free_port()
    cid = await started(engine, *HTTPD, hostname="web",
                        ports=[PortBinding(80, "tcp", "", port)])
    assert "hello from web" in await _fetch(f"http://127.0.0.1:{port}/")
    assert "hello from web" in await _fetch(f"http://{_host_address()}:{port}/")
    ports = await engine.containers.port(cid)
    assert ports["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(port)}]
    data = (await engine.containers.inspect(cid)).docker_json()
    assert data["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"] == str(port)
    assert data["NetworkSettings"]["IPAddress"]
    await engine.containers.remove(cid, force=True)


async def test_random_host_port_with_publish_all(engine: Engine) -> None:
    cid = await started(engine, *HTTPD, publish_all=True)  # the image exposes 80/tcp
    binding = (await engine.containers.port(cid))["80/tcp"]
    assert binding is not None
    host_port = int(binding[0]["HostPort"])
    assert host_port > 0
    assert "hello" in await _fetch(f"http://127.0.0.1:{host_port}/")
    await engine.containers.remove(cid, force=True)


async def test_a_taken_port_is_refused_naming_who_has_it(engine: Engine) -> None:
    port = _free_port()
    first = await started(engine, *HTTPD, name="web-1", ports=[PortBinding(80, "tcp", "", port)])
    second = await engine.containers.create(config(*HTTPD, ports=[PortBinding(80, "tcp", "",
                                                                              port)]))
    with pytest.raises(InUse, match=f"port {port} is already in use by container web-1"):
        await engine.containers.start(second.id)
    await engine.containers.remove(first, force=True)


async def test_containers_on_a_user_network_reach_each_other_by_name(engine: Engine) -> None:
    await engine.networks.create("skiff-test-net")
    long_alias = "a-project-with-a-rather-long-name-as-docker-compose-makes-them_api-1"
    try:
        server = await started(engine, *HTTPD, name="backend", hostname="backend",
                               network="skiff-test-net", network_aliases=["api", long_alias])
        client = await engine.containers.create(config(
            "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do "
            "wget -q -O - http://backend/ && wget -q -O - http://api/ && "
            f"wget -q -O - http://{long_alias}/ && exit 0; sleep 0.3; "
            "done; exit 1", network="skiff-test-net"))
        await engine.containers.start(client.id)
        assert await engine.containers.wait(client.id) == 0
        out = "".join([line.data.decode() + "\n"
                       async for line in engine.containers.logs(client.id)])
        assert out.count("hello from backend") == 3
        inspect = await engine.networks.inspect("skiff-test-net")
        assert server in inspect.containers
        assert inspect.containers[server].aliases == ("api", long_alias)
        await engine.containers.remove(client.id)
        await engine.containers.remove(server, force=True)
    finally:
        await engine.networks.remove("skiff-test-net")
    assert "skiff-test-net" not in {n.name for n in await engine.networks.list()}


def _default_route_link() -> str:
    """The host's way out (its default route's interface), which outlives any test."""
    for row in Path("/proc/net/route").read_text().splitlines()[1:]:
        fields = row.split()
        if fields[1] == "00000000":
            return fields[0]
    return "lo"


async def test_host_network_sees_the_hosts_interfaces(engine: Engine) -> None:
    container = await engine.containers.create(config("ls", "/sys/class/net", network="host"))
    await engine.containers.start(container.id)
    await engine.containers.wait(container.id)
    seen = {line.data.decode() async for line in engine.containers.logs(container.id)}
    # other test runs' links come and go meanwhile: the links that stay are the proof
    assert {"lo", _default_route_link()} <= seen


async def test_container_files_for_names(engine: Engine) -> None:
    container = await engine.containers.create(config("sh", "-c", "cat /etc/hostname /etc/hosts; "
                                           "ls /etc/resolv.conf", hostname="named"))
    await engine.containers.start(container.id)
    await engine.containers.wait(container.id)
    lines = [line.data.decode() async for line in engine.containers.logs(container.id)]
    assert lines[0] == "named"
    assert any(line.startswith("127.0.0.1") and "localhost" in line for line in lines)
    assert any("named" in line.split()[1:] for line in lines[1:-1] if line.strip())
    assert lines[-1] == "/etc/resolv.conf"


def _alias(link: str) -> str:
    try:
        return Path(f"/sys/class/net/{link}/ifalias").read_text().strip()
    except OSError:
        return ""


async def test_nothing_is_left_on_the_host_after_removal(engine: Engine) -> None:
    port = _free_port()
    cid = await started(engine, *HTTPD, ports=[PortBinding(80, "tcp", "", port)])
    # the host end of its veth carries its id (other test runs' veths come and go)
    ours = {name for name in os.listdir("/sys/class/net")
            if _alias(name) == f"skiff:{cid}"}
    assert ours, "the container's veth should be on the host while it runs"
    await engine.containers.remove(cid, force=True)
    # the kernel deletes it with the container's network namespace, in its own time
    deadline = asyncio.get_running_loop().time() + 10
    while not ours.isdisjoint(os.listdir("/sys/class/net")):
        assert asyncio.get_running_loop().time() < deadline, f"{ours} still on the host"
        await asyncio.sleep(0.01)
    mounts = Path("/proc/self/mounts").read_text()
    assert cid not in mounts
