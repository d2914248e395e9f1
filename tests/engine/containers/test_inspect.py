"""``docker image inspect``'s shape for local images."""

from __future__ import annotations

from engine.images.inspect import image_inspect
from engine.images.model import Image, Layer

DIFF = "sha256:" + "d" * 64
LAYER = Layer("sha256:" + "c" * 64, DIFF, 1234, "application/vnd.oci.image.layer.v1.tar+gzip")


def _image(**config: object) -> Image:
    return Image(
        id="sha256:" + "a" * 64,
        repo_tags=["docker.io/library/busybox:latest", "ghcr.io/org/app:1"],
        repo_digests=["docker.io/library/busybox@sha256:" + "b" * 64],
        created="2024-01-01T00:00:00Z", size=1234, architecture="arm64", os="linux",
        config={"created": "2024-01-01T00:00:00Z", "architecture": "arm64", "os": "linux",
                "variant": "v8", "config": config,
                "rootfs": {"type": "layers", "diff_ids": [DIFF]},
                "history": [{"created_by": "x", "comment": "buildkit.dockerfile.v0"}]},
        layers=[LAYER], manifest_digest="sha256:" + "e" * 64,
    )


def test_inspect_uses_docker_names_and_shape() -> None:
    result = image_inspect(_image(
        Cmd=["sh"], Env=["PATH=/bin"], ExposedPorts={"80/tcp": {}}, WorkingDir="/srv",
        User="app", Entrypoint=["/init"], Labels={"a": "b"}, StopSignal="SIGQUIT",
        Volumes={"/data": {}}))
    assert list(result) == ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created",
                            "DockerVersion", "Author", "Config", "Architecture", "Variant",
                            "Os", "Size", "RootFS", "Metadata"]
    assert result["Id"] == "sha256:" + "a" * 64
    assert result["RepoTags"] == ["busybox:latest", "ghcr.io/org/app:1"]
    assert result["RepoDigests"] == ["busybox@sha256:" + "b" * 64]
    assert result["Comment"] == "buildkit.dockerfile.v0"
    assert (result["Architecture"], result["Variant"], result["Os"]) == ("arm64", "v8", "linux")
    assert result["Size"] == 1234
    assert result["RootFS"] == {"Type": "layers", "Layers": [DIFF]}
    config = result["Config"]
    assert config["Cmd"] == ["sh"]
    assert config["Entrypoint"] == ["/init"]
    assert config["Env"] == ["PATH=/bin"]
    assert config["ExposedPorts"] == {"80/tcp": {}}
    assert config["Volumes"] == {"/data": {}}
    assert (config["WorkingDir"], config["User"]) == ("/srv", "app")
    assert config["Labels"] == {"a": "b"}
    assert config["StopSignal"] == "SIGQUIT"


def test_inspect_empty_values_are_docker_nulls() -> None:
    result = image_inspect(_image())
    assert _image().docker_json() == result
    config = result["Config"]
    assert config["Cmd"] is None
    assert config["Entrypoint"] is None
    assert config["Env"] is None
    assert config["Volumes"] is None
    assert config["Labels"] is None
    assert "ExposedPorts" not in config
    assert "StopSignal" not in config
    assert config["WorkingDir"] == ""
