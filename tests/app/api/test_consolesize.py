"""Docker's ConsoleSize through the API: read from a create body as dockerd reads it,
and the real docker CLI's ``run -t``/``exec -t`` from a terminal give the container's
TTY that terminal's size before the process starts, as they do with dockerd."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import termios
from collections.abc import Callable
from typing import Any

import pytest

from app.api.createbody import container_config
from app.api.errors import ApiError
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.terminal import read_until_closed

Docker = Callable[..., subprocess.CompletedProcess[str]]


def _config(size: Any) -> Any:
    return container_config({"Image": "busybox", "Tty": True,
                             "HostConfig": {"ConsoleSize": size}})


@pytest.mark.parametrize(("size", "read"), [
    ([33, 111], (33, 111)), (None, (0, 0)), ([], (0, 0)),
    ([33], (33, 0)), ([33, 111, 7], (33, 111)),  # Go's [2]uint: more dropped, fewer are 0
    ([33.0, 111.0], (33, 111)),
])
def test_console_size_is_read_as_dockerd_reads_it(size: Any, read: tuple[int, int]) -> None:
    assert _config(size).console_size == read


@pytest.mark.parametrize("size", [[-1, 80], "33x111", [33, "111"]])
def test_a_console_size_that_is_no_pair_of_sizes_is_a_400(size: Any) -> None:
    with pytest.raises(ApiError, match="ConsoleSize") as caught:
        _config(size)
    assert caught.value.status == 400


def _docker_in_a_terminal(server: ApiServer, size: tuple[int, int], *args: str) -> str:
    """The docker CLI run to its end on a pseudo-terminal of ``size``: what it printed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
    process = subprocess.Popen(["docker", *args], stdin=slave, stdout=slave, stderr=slave,
                               env=server.env(), start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        seen = read_until_closed(master)
        assert process.wait(timeout=30) == 0, seen
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return seen.decode(errors="replace")


@pytest.mark.root
def test_docker_run_t_and_exec_t_have_the_terminal_s_size_at_once(
        docker_cli: Docker, api_server: ApiServer) -> None:
    seen = _docker_in_a_terminal(api_server, (33, 111), "run", "-t", "--rm", "busybox",
                                 "stty", "size")
    assert seen.split() == ["33", "111"]
    _docker_in_a_terminal(api_server, (40, 120), "create", "-t", "--name", "api-sized",
                          "busybox", "sleep", "60")
    inspected = docker_cli("inspect", "-f", "{{json .HostConfig.ConsoleSize}}", "api-sized")
    assert inspected.stdout == "[40,120]\n", inspected.stderr
    assert docker_cli("start", "api-sized").returncode == 0
    seen = _docker_in_a_terminal(api_server, (25, 90), "exec", "-t", "api-sized", "stty", "size")
    assert seen.split() == ["25", "90"]


@pytest.mark.root
def test_before_api_1_42_the_console_size_is_not_read(docker_cli: Docker,
                                                     api_server: ApiServer) -> None:
    body = {"Image": "busybox", "Tty": True, "HostConfig": {"ConsoleSize": [33, 111]}}
    for version, kept in (("1.41", [0, 0]), ("1.42", [33, 111])):
        answer = api_server.request("POST", f"/v{version}/containers/create", body)
        assert answer.status == 201, answer.body
        inspected = docker_cli("inspect", answer.json()["Id"])
        assert json.loads(inspected.stdout)[0]["HostConfig"]["ConsoleSize"] == kept


@pytest.mark.root
def test_an_exec_s_console_size_is_checked_and_any_size_a_terminal_holds_is_taken(
        docker_cli: Docker, api_server: ApiServer) -> None:
    assert docker_cli("run", "-d", "--name", "api-exec-size", "busybox", "sleep", "60"
                      ).returncode == 0

    def exec_create(**body: Any) -> str:
        answer = api_server.request("POST", "/v1.47/containers/api-exec-size/exec",
                                    {"Cmd": ["stty", "size"], "Tty": True,
                                     "AttachStdout": True, **body})
        assert answer.status == 201, answer.body
        return str(answer.json()["Id"])

    for start in ({"ConsoleSize": 5}, {"ConsoleSize": ["a", "b"]}, {"ConsoleSize": [-1, 80]}):
        answer = api_server.request("POST", f"/v1.47/exec/{exec_create()}/start", start)
        assert answer.status == 400 and b"ConsoleSize" in answer.body, answer.body
    answer = api_server.request("POST", f"/v1.47/exec/{exec_create(ConsoleSize=[20000, 80])}"
                                "/start", {})
    assert answer.status == 200 and b"20000 80" in answer.body, answer.body
    answer = api_server.request("POST", f"/v1.47/exec/{exec_create()}/start",
                                {"ConsoleSize": [30, 100]})
    assert answer.status == 200 and b"30 100" in answer.body, answer.body
