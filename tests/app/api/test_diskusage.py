"""``GET /system/df``: only the parts ``?type=`` asks for (API >= 1.42, as dockerd),
the whole answer for docker-py's ``df()`` and the docker CLI, through a real server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.apiserver import ApiServer

pytestmark = pytest.mark.root


@pytest.fixture
def written(api_server: ApiServer, docker_client: Any) -> Any:
    """A stopped container that wrote a file into a named volume and its own layer."""
    volume = docker_client.volumes.create("apidf-volume")
    container = docker_client.containers.create(
        "busybox", ["sh", "-c", "echo data > /v/f; echo more > /f"], name="apidf-writer",
        volumes={"apidf-volume": {"bind": "/v", "mode": "rw"}})
    container.start()
    assert container.wait()["StatusCode"] == 0
    yield container
    container.remove(force=True)
    volume.remove(force=True)


def _df(api_server: ApiServer, query: str, version: str = "v1.47") -> dict[str, Any]:
    answer = api_server.request("GET", f"/{version}/system/df{query}")
    assert answer.status == 200, answer.body
    data: dict[str, Any] = answer.json()
    return data


def test_only_the_asked_parts_are_given(api_server: ApiServer, written: Any) -> None:
    volumes = _df(api_server, "?type=volume")
    assert (volumes["Images"], volumes["Containers"], volumes["BuildCache"]) == (None,) * 3
    assert volumes["LayersSize"] == 0 and "BuilderSize" not in volumes
    mine = [v for v in volumes["Volumes"] if v["Name"] == "apidf-volume"]
    assert mine and mine[0]["UsageData"] == {"Size": 5, "RefCount": 1}

    both = _df(api_server, "?type=container&type=image")
    assert both["Volumes"] is None and both["BuildCache"] is None
    assert both["LayersSize"] > 0
    assert any("busybox:latest" in i["RepoTags"] for i in both["Images"])
    writer = [c for c in both["Containers"] if c["Names"] == ["/apidf-writer"]]
    assert writer and writer[0]["SizeRw"] > 0 and writer[0]["SizeRootFs"] > writer[0]["SizeRw"]
    assert writer[0]["Command"].startswith("sh -c")

    images = _df(api_server, "?type=image")
    assert images["Containers"] is None
    assert next(i["Containers"] for i in images["Images"] if i["Id"] == written.image.id) >= 1

    cache = _df(api_server, "?type=build-cache")
    assert cache["BuildCache"] == [] and cache["Volumes"] is None


def test_without_type_or_below_1_42_everything_is_given(api_server: ApiServer,
                                                         docker_client: Any,
                                                         written: Any) -> None:
    for whole in (_df(api_server, ""), _df(api_server, "?type=volume", "v1.41"),
                  docker_client.df()):
        assert whole["LayersSize"] > 0
        assert {"apidf-writer"} <= {c["Names"][0][1:] for c in whole["Containers"]}
        assert {"apidf-volume"} <= {v["Name"] for v in whole["Volumes"]}
        assert whole["Images"] and whole["BuildCache"] == []
    assert "BuilderSize" in _df(api_server, "", "v1.41")
    assert "BuilderSize" not in _df(api_server, "")


def test_an_unknown_type_is_refused(api_server: ApiServer) -> None:
    answer = api_server.request("GET", "/v1.47/system/df?type=image&type=bogus")
    assert answer.status == 400
    assert answer.json() == {"message": "unknown object type: bogus"}


def test_docker_cli_system_df_reads_it(api_server: ApiServer, written: Any) -> None:
    table = api_server.docker("system", "df", "-v")
    assert table.returncode == 0, table.stderr
    assert "apidf-writer" in table.stdout and "apidf-volume" in table.stdout
