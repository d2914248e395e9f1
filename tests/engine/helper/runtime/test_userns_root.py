"""Root's containers and user namespaces: not remapped unless asked (``userns="remap"``,
dockerd's userns-remap for one container), remapped to root's subordinate ids when asked,
and a clear error without them; a desktop user's containers are in test_userns.py."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig
from tests.engine.helper.runtime.test_userns import IDENTITY_MAP, _maps

pytestmark = pytest.mark.root


def _config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd),
                           **options)  # type: ignore[arg-type]


async def test_root_is_not_remapped_unless_asked(engine: Engine) -> None:
    container = await engine.containers.create(_config("cat", "/proc/self/uid_map"))
    await engine.containers.start(container.id)
    assert await engine.containers.wait(container.id) == 0
    assert _maps(_log_text(engine, container.id)) == [IDENTITY_MAP]
    inspect = (await engine.containers.inspect(container.id)).docker_json()
    assert inspect["HostConfig"]["UsernsMode"] == ""
    assert inspect["GraphDriver"]["Data"] is None


async def test_root_remaps_on_request(engine: Engine, root_subids: tuple[int, int]) -> None:
    first, count = root_subids
    container = await engine.containers.create(_config("httpd", "-f", "-p", "80", "-h",
                                                       "/proc/self",
                                            userns="remap"))
    await engine.containers.start(container.id)
    inspect = (await engine.containers.inspect(container.id)).docker_json()
    assert inspect["HostConfig"]["UsernsMode"] == "remap"
    assert inspect["HostConfig"]["IDMappings"]["UidMap"] == [f"0:{first}:{min(count, 65536)}"]
    assert inspect["GraphDriver"]["Data"] == {"UsernsLayers": "idmapped"}
    answer = _http_get(inspect["NetworkSettings"]["IPAddress"], "/uid_map")
    assert _maps(answer.decode().split("\r\n\r\n", 1)[1]) == [f"0 {first} {min(count, 65536)}"]


async def test_root_remap_without_a_range_says_so(engine: Engine) -> None:
    from engine.errors import InvalidArgument

    if Path("/etc/subuid").read_text().count("root:") or \
            any(line.startswith("0:") for line in Path("/etc/subuid").read_text().splitlines()):
        pytest.skip("root has subordinate ids on this host")
    with pytest.raises(InvalidArgument, match=r"no subordinate uids .* root"):
        await engine.containers.create(_config("true", userns="remap"))


def _http_get(address: str, path: str) -> bytes:
    """The answer of a server that may be still starting."""
    deadline = time.monotonic() + 10
    while True:
        try:
            conn = socket.create_connection((address, 80), timeout=5)
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.05)
    with conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    return answer


def _log_text(engine: Engine, cid: str) -> str:
    path = engine.system.helper_root / "users" / "0" / "containers" / cid / "ctr.log"
    return "".join(line.split(" ", 3)[3] + "\n" for line in path.read_text().splitlines())
