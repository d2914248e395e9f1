"""Images through docker-py (its API client and its models) against ``skiff serve``."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import docker
import pytest
from docker.errors import APIError, ImageLoadError, ImageNotFound, NotFound

from tests.fixtures.registry import PASSWORD, USER, LocalRegistry

pytestmark = pytest.mark.root


def test_list_get_and_inspect(client: docker.DockerClient) -> None:
    tags = [t for image in client.images.list() for t in image.tags]
    assert "busybox:latest" in tags
    image = client.images.get("busybox")
    assert image.id.startswith("sha256:") and "busybox:latest" in image.tags
    assert image.attrs["Os"] == "linux" and image.attrs["RootFS"]["Type"] == "layers"
    assert client.images.get(image.short_id).id == image.id
    listed = client.api.images(name="busybox")
    assert [entry["Id"] for entry in listed] == [image.id]
    assert isinstance(listed[0]["Created"], int) and listed[0]["Size"] > 0
    with pytest.raises(ImageNotFound, match="No such image: nosuch:tag"):
        client.images.get("nosuch:tag")


def test_history(client: docker.DockerClient) -> None:
    history = client.images.get("busybox").history()
    assert history and history[0]["Id"].startswith("sha256:")
    assert all(isinstance(step["Created"], int) for step in history)


def test_tag_filters_and_remove(client: docker.DockerClient) -> None:
    image = client.images.get("busybox")
    assert image.tag("apitest/tagged", "v1")
    try:
        assert "apitest/tagged:v1" in client.images.get("apitest/tagged:v1").tags
        found = client.images.list(filters={"reference": "apitest/*"})
        assert [i.id for i in found] == [image.id]
        assert client.images.list(filters={"reference": "apitest/tagged:v2"}) == []
        assert image.id not in [i.id for i in client.images.list(filters={"dangling": True})]
    finally:
        removed = client.api.remove_image("apitest/tagged:v1")
    assert removed == [{"Untagged": "apitest/tagged:v1"}]
    with pytest.raises(ImageNotFound):
        client.images.get("apitest/tagged:v1")
    with pytest.raises(APIError, match="invalid filter 'colour'"):
        client.api.images(filters={"colour": "red"})


def test_save_and_load(client: docker.DockerClient, tmp_path: Path) -> None:
    image = client.images.get("busybox")
    archive = tmp_path / "busybox.tar"
    with archive.open("wb") as sink:
        for chunk in image.save(named=True):
            sink.write(chunk)
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames()
    image.tag("apitest/loaded", "1")
    client.images.remove("apitest/loaded:1")
    # the archive names busybox:latest: loading it brings back the same image
    loaded = client.images.load(archive.read_bytes())
    assert [i.id for i in loaded] == [image.id]
    image.tag("apitest/second", "1")
    try:
        by_id = b"".join(image.save())  # by its ID: no names in it, as docker saves it
        assert [i.id for i in client.images.load(by_id)] == [image.id]
    finally:
        client.images.remove("apitest/second:1")
    with pytest.raises(ImageLoadError, match="not a docker save"):  # dockerd's stream error
        client.images.load(b"not a tar")


def test_import_from_tarball(client: docker.DockerClient) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    client.api.import_image_from_data(data.getvalue(), repository="apitest/imported",
                                      tag="1", changes=['CMD ["/hello.txt"]'])
    try:
        image = client.images.get("apitest/imported:1")
        assert image.attrs["Config"]["Cmd"] == ["/hello.txt"]
    finally:
        client.images.remove("apitest/imported:1")


def test_pull_and_push_with_the_local_registry(client: docker.DockerClient,
                                              plain_registry: LocalRegistry,
                                              fresh_registry: LocalRegistry) -> None:
    """Pulls from the session's registry; pushes to one of its own, whose catalog
    no other test counts on."""
    host = plain_registry.host
    pushed = f"{fresh_registry.host}/apitest/pushed"
    try:  # another test of the session may have pulled it
        client.images.remove(f"{host}/test/busybox:1.0")
    except ImageNotFound:
        pass
    events = list(client.api.pull(f"{host}/test/busybox", tag="1.0", stream=True,
                                  decode=True))
    statuses = [e.get("status", "") for e in events]
    assert statuses[0] == "Pulling from test/busybox"
    assert any(s.startswith("Digest: sha256:") for s in statuses)
    assert statuses[-1] == f"Status: Downloaded newer image for {host}/test/busybox:1.0"
    assert any(s in ("Pull complete", "Already exists") for s in statuses)
    again = client.images.pull(f"{host}/test/busybox", tag="1.0")
    assert f"{host}/test/busybox:1.0" in again.tags

    again.tag(pushed, "v2")
    try:
        lines = list(client.images.push(pushed, tag="v2", stream=True,
                                        decode=True))
        assert lines[0]["status"] == f"The push refers to repository [{pushed}]"
        assert not [line for line in lines if "error" in line]
        assert lines[-1]["aux"]["Digest"].startswith("sha256:")
        client.images.remove(f"{pushed}:v2")
        pulled = client.images.pull(pushed, tag="v2")
        assert pulled.id == again.id
    finally:
        client.images.remove(f"{pushed}:v2")
        client.images.remove(f"{host}/test/busybox:1.0")


def test_pull_errors(client: docker.DockerClient, plain_registry: LocalRegistry) -> None:
    with pytest.raises(NotFound):
        client.images.pull(f"{plain_registry.host}/test/nosuch", tag="latest")
    with pytest.raises(ImageNotFound):
        list(client.images.push("apitest/nosuch", tag="1", stream=True))
    # a registry that cannot be reached: an HTTP error before any progress, as dockerd
    with pytest.raises(APIError, match=r"127\.0\.0\.1:1"):
        client.api.pull("127.0.0.1:1/nothing", tag="latest")


def test_registry_data_without_pulling(client: docker.DockerClient,
                                       plain_registry: LocalRegistry) -> None:
    host = plain_registry.host
    data = client.images.get_registry_data(f"{host}/test/index:latest")
    assert data.id.startswith("sha256:")
    assert data.attrs["Descriptor"]["mediaType"].endswith(("index.v1+json", "list.v2+json"))
    assert len(data.attrs["Platforms"]) == 2 and data.has_platform("linux/amd64")
    single = client.images.get_registry_data(f"{host}/test/busybox:1.0")
    assert single.attrs["Platforms"][0]["os"] == "linux"
    assert single.attrs["Descriptor"]["size"] > 0
    with pytest.raises(ImageNotFound):
        client.images.get(f"{host}/test/index:latest")  # nothing was pulled
    with pytest.raises(NotFound):
        client.images.get_registry_data(f"{host}/test/nosuch:latest")


def test_credentials_of_the_request_for_push_and_pull(client: docker.DockerClient,
                                                      basic_registry: LocalRegistry) -> None:
    """X-Registry-Auth: used for its own registry, never sent to another one."""
    host = basic_registry.host
    target = f"{host}/apitest/authed"
    client.images.get("busybox").tag(target, "1")
    good = {"username": USER, "password": PASSWORD, "serveraddress": host}
    elsewhere = {**good, "serveraddress": "registry.example.org"}
    try:
        for auth in (None, elsewhere, {**good, "password": "wrong"}):
            lines = list(client.images.push(target, tag="1", auth_config=auth, stream=True,
                                            decode=True))
            assert "error" in lines[-1], lines[-1]
        lines = list(client.images.push(target, tag="1", auth_config=good, stream=True,
                                        decode=True))
        assert not [line for line in lines if "error" in line], lines
        client.images.remove(f"{target}:1")
        with pytest.raises(APIError):
            client.images.pull(target, tag="1")
        pulled = client.images.pull(target, tag="1", auth_config=good)
        assert pulled.id == client.images.get("busybox").id
    finally:
        client.images.remove(f"{target}:1")
