"""What a careless or vanishing client gets from ``skiff serve``: Docker's clear
errors, nothing left behind, and a server that keeps serving."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root


def _fds(server: ApiServer) -> int:
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def _settles_at(server: ApiServer, baseline: int) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if _fds(server) <= baseline:
            return True
        time.sleep(0.05)
    return False


def _steady(server: ApiServer) -> int:
    """The server's descriptor count once it stopped moving."""
    seen = [_fds(server)]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (len(seen) < 5 or len(set(seen[-5:])) > 1):
        time.sleep(0.05)
        seen.append(_fds(server))
    return seen[-1]


def _leaves_nothing(server: ApiServer, cycle: Callable[[], None]) -> None:
    """Once warmed up (lazy opens count once), repeating ``cycle`` grows nothing."""
    cycle()
    baseline = _steady(server)
    for _ in range(3):
        cycle()
    assert _settles_at(server, baseline)
    assert server.request("GET", "/_ping").status == 200


@pytest.fixture
def running(api_server: ApiServer) -> Iterator[Callable[..., str]]:
    """Starts busybox containers through the API; removes them afterwards."""
    made: list[str] = []

    def run(*cmd: str, tty: bool = False, stdin: bool = False) -> str:
        answer = api_server.request("POST", "/containers/create", {
            "Image": "busybox", "Cmd": list(cmd), "Tty": tty, "OpenStdin": stdin})
        assert answer.status == 201, answer.body
        cid = answer.json()["Id"]
        made.append(cid)
        assert api_server.request("POST", f"/containers/{cid}/start").status == 204
        return str(cid)

    yield run
    for cid in made:
        api_server.request("DELETE", f"/containers/{cid}?force=1")


def _raw(server: ApiServer, head: str, body: bytes = b"") -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(30)
    sock.connect(str(server.socket))
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_malformed_json_is_a_400_with_a_message(api_server: ApiServer) -> None:
    for body in (b"{not json", b"[1, 2]", b""):
        answer = api_server.request("POST", "/containers/create", body,
                                    headers={"Content-Type": "application/json"})
        assert answer.status == 400, body
        assert answer.json()["message"]


@pytest.mark.parametrize(("field", "value", "named"), [
    ("Privileged", True, "HostConfig.Privileged"),
    ("DeviceCgroupRules", ["c 7:* rwm"], "HostConfig.DeviceCgroupRules"),
    ("DeviceRequests", [{"Driver": "nvidia"}], "HostConfig.DeviceRequests"),
    ("PidMode", "host", "HostConfig.PidMode"),
])
def test_unsupported_host_config_is_refused_by_name(api_server: ApiServer, field: str,
                                                     value: Any, named: str) -> None:
    answer = api_server.request("POST", "/containers/create", {
        "Image": "busybox", "HostConfig": {field: value}})
    assert answer.status == 400
    assert named in answer.json()["message"]
    assert "not supported by Skiff" in answer.json()["message"]


def test_fields_of_the_wrong_type_are_a_400_and_make_nothing(api_server: ApiServer) -> None:
    before = api_server.request("GET", "/containers/json?all=1").json()
    for body in ({"Labels": ["a"]}, {"HostConfig": {"PortBindings": {"80/tcp": "8080"}}},
                 {"HostConfig": []}, {"Env": "A=b"}):
        answer = api_server.request("POST", "/containers/create?name=api-typed",
                                    {"Image": "busybox", **body})
        assert answer.status == 400, body
        assert answer.json()["message"].startswith("json: cannot unmarshal ")
    assert api_server.request("GET", "/containers/json?all=1").json() == before


def test_other_bodies_and_queries_of_the_wrong_type_are_a_400(
        api_server: ApiServer, running: Callable[..., str]) -> None:
    cid = running("sleep", "60")
    for path, body in ((f"/containers/{cid}/update", {"Memory": "lots"}),
                       (f"/containers/{cid}/exec", {"Cmd": ["true"], "Env": "A=b"}),
                       ("/networks/bridge/connect", {"Container": cid, "EndpointConfig": []}),
                       ("/networks/create", {"Name": 5}),
                       ("/volumes/create", {"Name": ["a"]})):
        answer = api_server.request("POST", path, body)
        assert answer.status == 400, (path, answer.body)
        assert answer.json()["message"].startswith("json: cannot unmarshal "), path
    answer = api_server.request("GET", f"/containers/{cid}/logs?stdout=1&since=soon")
    assert answer.status == 400 and "soon" in answer.json()["message"]
    assert api_server.request("GET", f"/containers/{cid}/json").json()["State"]["Running"]


def test_zero_values_and_unknown_fields_are_ignored(api_server: ApiServer) -> None:
    answer = api_server.request("POST", "/containers/create?name=api-zero", {
        "Image": "busybox", "Cmd": ["true"], "SomethingNew": {"x": 1},
        "HostConfig": {"Privileged": False, "CapAdd": None, "Dns": [], "CpuShares": 0,
                       "PidMode": "", "Future": 3}})
    assert answer.status == 201, answer.body
    assert api_server.request("DELETE", "/containers/api-zero").status == 204


def test_missing_objects_use_docker_s_texts(api_server: ApiServer) -> None:
    answer = api_server.request("GET", "/containers/no-such-thing/json")
    assert (answer.status, answer.json()) == (404, {"message":
                                                    "No such container: no-such-thing"})
    answer = api_server.request("POST", "/containers/create", {"Image": "nothing-here:1"})
    assert answer.status == 404
    assert answer.json()["message"].startswith("No such image: nothing-here")
    answer = api_server.request("GET", "/exec/abc/json")
    assert (answer.status, answer.json()) == (404, {"message": "No such exec instance: abc"})


def test_an_oversized_body_is_refused(api_server: ApiServer) -> None:
    body = b'{"Image": "busybox", "Env": ["' + b"x" * (9 << 20) + b'"]}'
    sock = _raw(api_server, f"POST /containers/create HTTP/1.1\nHost: x\n"
                            f"Content-Type: application/json\nContent-Length: {len(body)}\n",
                body=b"")
    try:
        try:
            sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the whole body went out
        head = _read_until(sock, b"\r\n\r\n")
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert api_server.request("GET", "/_ping").status == 200


def test_a_client_leaving_a_log_follow_leaves_nothing(api_server: ApiServer,
                                                      running: Callable[..., str]) -> None:
    cid = running("sh", "-c", "while true; do echo tick; sleep 0.1; done")

    def cycle() -> None:
        sock = _raw(api_server, f"GET /containers/{cid}/logs?follow=1&stdout=1 HTTP/1.1\n"
                                "Host: x\n")
        assert b"tick" in _read_until(sock, b"tick")
        sock.close()

    _leaves_nothing(api_server, cycle)


def test_a_client_leaving_an_attach_leaves_the_container_running(
        api_server: ApiServer, running: Callable[..., str]) -> None:
    cid = running("sh", "-c", "while true; do echo tock; sleep 0.1; done")

    def cycle() -> None:
        sock = _raw(api_server, f"POST /containers/{cid}/attach?stream=1&stdout=1 HTTP/1.1\n"
                                "Host: x\nConnection: Upgrade\nUpgrade: tcp\n")
        data = _read_until(sock, b"tock")
        assert data.startswith(b"HTTP/1.1 101 UPGRADED")
        sock.close()

    _leaves_nothing(api_server, cycle)
    state = api_server.request("GET", f"/containers/{cid}/json").json()["State"]
    assert state["Running"] is True


def test_a_client_leaving_an_exec_leaves_no_session(api_server: ApiServer,
                                                    running: Callable[..., str]) -> None:
    cid = running("sleep", "60")

    def cycle() -> None:
        created = api_server.request("POST", f"/containers/{cid}/exec", {
            "Cmd": ["sh", "-c", "while true; do echo tack; sleep 0.1; done"],
            "AttachStdout": True, "AttachStderr": True, "AttachStdin": True})
        exec_id = created.json()["Id"]
        body = json.dumps({"Detach": False, "Tty": False}).encode()
        sock = _raw(api_server, f"POST /exec/{exec_id}/start HTTP/1.1\nHost: x\n"
                                "Connection: Upgrade\nUpgrade: tcp\n"
                                "Content-Type: application/json\n"
                                f"Content-Length: {len(body)}\n", body=body)
        assert b"tack" in _read_until(sock, b"tack")
        sock.close()

    _leaves_nothing(api_server, cycle)


def test_a_client_leaving_a_wait_is_forgotten(api_server: ApiServer,
                                              running: Callable[..., str]) -> None:
    cid = running("sleep", "60")

    def cycle() -> None:
        sock = _raw(api_server, f"POST /containers/{cid}/wait HTTP/1.1\nHost: x\n")
        assert _read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
        sock.close()

    _leaves_nothing(api_server, cycle)


def test_clients_leaving_events_and_stats_streams_leave_nothing(
        api_server: ApiServer, running: Callable[..., str]) -> None:
    cid = running("sleep", "60")

    def cycle() -> None:
        events = _raw(api_server, "GET /events HTTP/1.1\nHost: x\n")
        stats = _raw(api_server, f"GET /containers/{cid}/stats?stream=1 HTTP/1.1\nHost: x\n")
        assert _read_until(events, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
        assert b"cpu_stats" in _read_until(stats, b"cpu_stats")
        events.close()
        stats.close()

    _leaves_nothing(api_server, cycle)


def test_a_client_leaving_mid_upload_leaves_nothing(api_server: ApiServer,
                                                    running: Callable[..., str]) -> None:
    cid = running("sleep", "60")
    loads = set(Path(tempfile.gettempdir()).glob("skiff-api-load-*"))

    def cycle() -> None:
        for head in (f"PUT /containers/{cid}/archive?path=/tmp HTTP/1.1\n",
                     "POST /images/load?quiet=1 HTTP/1.1\n"):
            sock = _raw(api_server, head + "Host: x\nContent-Type: application/x-tar\n"
                                           "Content-Length: 10485760\n", body=b"\0" * 65536)
            sock.close()  # 64 KiB of the 10 MiB it announced

    _leaves_nothing(api_server, cycle)
    deadline = time.monotonic() + 20  # each upload's directory goes after its file closed
    while set(Path(tempfile.gettempdir()).glob("skiff-api-load-*")) != loads:
        assert time.monotonic() < deadline, "an upload's temporary directory was left"
        time.sleep(0.05)
