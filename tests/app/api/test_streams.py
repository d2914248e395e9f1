"""Streams of ``skiff serve`` as clients consume them: live events, stats, waits
with their conditions, and a detach typed into an attached terminal."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root


def test_events_stream_live_one_at_a_time(docker_client: Any) -> None:
    stream = docker_client.events(decode=True, filters={"container": "py-events",
                                                         "type": "container"})
    try:
        container = docker_client.containers.run("busybox", ["true"], name="py-events",
                                                 detach=True)
        actions = []
        for event in stream:  # each arrives as it happens: the stream never ends by itself
            assert event["Actor"]["Attributes"]["name"] == "py-events"
            actions.append(event["Action"])
            if event["Action"] == "die":
                break
        assert actions[:2] == ["create", "start"] and actions[-1] == "die"
        assert event["id"] == container.id and event["Actor"]["Attributes"]["exitCode"] == "0"
    finally:
        stream.close()


def test_stats_stream_carries_cpu_counters_clients_difference(docker_client: Any) -> None:
    container = docker_client.containers.run("busybox", ["sh", "-c", "while :; do :; done"],
                                             detach=True)
    stream = container.stats(stream=True, decode=True)
    try:
        first, second = next(stream), next(stream)
    finally:
        stream.close()
    assert second["precpu_stats"] == first["cpu_stats"]
    used = (second["cpu_stats"]["cpu_usage"]["total_usage"]
            - first["cpu_stats"]["cpu_usage"]["total_usage"])
    system = second["cpu_stats"]["system_cpu_usage"] - first["cpu_stats"]["system_cpu_usage"]
    percent = used / system * second["cpu_stats"]["online_cpus"] * 100
    assert percent > 1  # a busy loop shows, as docker stats computes it (on a busy host too)
    one = container.stats(stream=False, one_shot=True)
    assert one["pids_stats"]["current"] >= 1


def _send_wait(server: ApiServer, container_id: str, condition: str) -> socket.socket:
    """A wait request whose headers came back: the server is waiting."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(60)
    sock.connect(str(server.socket))
    sock.sendall(f"POST /containers/{container_id}/wait?condition={condition} HTTP/1.1\r\n"
                 "Host: x\r\nConnection: close\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 200")
    return sock


def _body(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    size, _, rest = data.partition(b"\r\n")  # one chunk of the chunked body
    return json.loads(rest[:int(size, 16)])


def test_wait_conditions(api_server: ApiServer, docker_client: Any) -> None:
    api = docker_client.api
    created = api.create_container("busybox", ["sh", "-c", "exit 3"],
                                   host_config=api.create_host_config(auto_remove=True))
    waits = [_send_wait(api_server, created["Id"], c) for c in ("next-exit", "removed")]
    api.start(created["Id"])
    assert [_body(sock) for sock in waits] == [{"StatusCode": 3}, {"StatusCode": 3}]
    assert not docker_client.containers.list(all=True, filters={"id": created["Id"]})
    stopped = docker_client.containers.create("busybox", ["true"])
    assert api.wait(stopped.id, condition="not-running", timeout=30) == {"StatusCode": 0}
    bad = api_server.request("POST", f"/containers/{stopped.id}/wait?condition=soon")
    assert bad.status == 400


def test_detach_keys_end_the_attach_and_the_container_runs_on(
        api_server: ApiServer, docker_client: Any) -> None:
    container = docker_client.containers.run("busybox", ["sh"], tty=True, stdin_open=True,
                                             detach=True)
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(30)
    sock.connect(str(api_server.socket))
    sock.sendall(f"POST /containers/{container.id}/attach?stream=1&stdin=1&stdout=1"
                 "&detachKeys=ctrl-x,x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                 "Upgrade: tcp\r\n\r\n".encode())
    data = sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 101 UPGRADED")
    sock.sendall(b"echo still-here\r")
    while b"still-here\r\n" not in data:
        data += sock.recv(4096)
    sock.sendall(b"\x18x")
    while chunk := sock.recv(4096):  # the server ends the session: EOF
        data += chunk
    sock.close()
    container.reload()
    assert container.status == "running"


def test_a_removed_container_s_exec_instances_go_with_it(api_server: ApiServer,
                                                          docker_client: Any) -> None:
    container = docker_client.containers.run("busybox", ["sleep", "60"], detach=True)
    exec_id = docker_client.api.exec_create(container.id, ["true"])["Id"]
    docker_client.api.exec_start(exec_id)
    assert api_server.request("GET", f"/exec/{exec_id}/json").status == 200
    container.remove(force=True)
    deadline = time.monotonic() + 30  # the server hears of the removal from the engine
    while api_server.request("GET", f"/exec/{exec_id}/json").status == 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api_server.request("GET", f"/exec/{exec_id}/json").status == 404


def test_an_attach_waiting_for_a_start_that_fails_ends(api_server: ApiServer,
                                                       docker_client: Any) -> None:
    created = docker_client.api.create_container("busybox", ["no-such-command"])
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(60)
    sock.connect(str(api_server.socket))
    sock.sendall(f"POST /containers/{created['Id']}/attach?stream=1&stdout=1&stderr=1 "
                 "HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
    data = sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 101 UPGRADED")
    started = api_server.request("POST", f"/containers/{created['Id']}/start")
    assert started.status == 400 and "no-such-command" in started.json()["message"]
    while sock.recv(4096):  # the attach ends with the failed start
        pass
    sock.close()
