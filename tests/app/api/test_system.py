"""``skiff serve``'s system endpoints and its HTTP manners, through the socket and
through the real docker CLI."""

from __future__ import annotations

import json

import pytest

from app.api.versions import API_VERSION
from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root


def test_ping_says_versions_in_headers(api_server: ApiServer) -> None:
    for method in ("GET", "HEAD"):
        answer = api_server.request(method, "/_ping")
        assert answer.status == 200
        assert answer.headers["Api-Version"] == API_VERSION
        assert answer.headers["OSType"] == "linux"
        assert answer.headers["Server"].startswith("Skiff/")
        assert answer.body == (b"OK" if method == "GET" else b"")


def test_every_version_prefix_in_range_is_served(api_server: ApiServer) -> None:
    for prefix in ("", "/v1.24", "/v1.41", f"/v{API_VERSION}"):
        answer = api_server.request("GET", f"{prefix}/version")
        assert answer.status == 200, prefix
        assert answer.json()["ApiVersion"] == API_VERSION
        assert answer.json()["MinAPIVersion"] == "1.24"


def test_versions_outside_the_range_are_refused_as_dockerd_does(api_server: ApiServer) -> None:
    old = api_server.request("GET", "/v1.12/version")
    assert old.status == 400
    assert "client version 1.12 is too old" in old.json()["message"]
    new = api_server.request("GET", "/v9.99/version")
    assert new.status == 400
    assert new.json()["message"] == ("client version 9.99 is too new. Maximum supported "
                                     f"API version is {API_VERSION}")


def test_unknown_paths_and_wrong_methods_are_page_not_found(api_server: ApiServer) -> None:
    for method, path in (("GET", "/nothing/here"), ("GET", "/v1.44/nothing"),
                         ("DELETE", "/version"), ("POST", "/_ping")):
        answer = api_server.request(method, path)
        assert answer.status == 404, (method, path)
        assert answer.headers["Content-Type"].startswith("application/json")
        assert answer.json() == {"message": "page not found"}


def test_info_counts_what_the_engine_has(api_server: ApiServer) -> None:
    data = api_server.request("GET", "/info").json()
    assert data["Images"] >= 1  # the session's busybox
    assert data["OSType"] == "linux"
    assert data["Containers"] == (data["ContainersRunning"] + data["ContainersPaused"]
                                  + data["ContainersStopped"])


def test_docker_cli_version_negotiates_with_the_server(api_server: ApiServer) -> None:
    result = api_server.docker("version", "--format", "{{json .Server}}")
    assert result.returncode == 0, result.stderr
    server = json.loads(result.stdout)
    assert server["ApiVersion"] == API_VERSION
    assert server["Platform"]["Name"] == "Skiff"


def test_docker_cli_info_reads_the_server(api_server: ApiServer) -> None:
    result = api_server.docker("info", "--format", "{{.OSType}} {{.Images}}")
    assert result.returncode == 0, result.stderr
    os_type, images = result.stdout.split()
    assert os_type == "linux" and int(images) >= 1


def test_the_socket_is_its_owners_alone(api_server: ApiServer) -> None:
    assert api_server.socket.stat().st_mode & 0o777 == 0o600
