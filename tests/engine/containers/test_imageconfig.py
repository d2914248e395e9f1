"""Docker's merge of an image's config with a container's settings, field by field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from engine.containers.config import ContainerConfig, PortBinding
from engine.containers.health import Healthcheck
from engine.containers.imageconfig import merge_config

BASE = ContainerConfig(image="app", image_id="sha256:" + "a" * 64)
IMAGE: dict[str, Any] = {
    "Entrypoint": ["/entry"], "Cmd": ["serve", "--port", "80"],
    "Env": ["PATH=/usr/bin", "MODE=prod"], "WorkingDir": "/srv", "User": "app",
    "ExposedPorts": {"80/tcp": {}}, "Labels": {"a": "1", "b": "2"},
    "Volumes": {"/data": {}}, "StopSignal": "SIGQUIT",
    "Healthcheck": {"Test": ["CMD", "check"], "Interval": 5_000_000_000, "Retries": 2},
}


@pytest.mark.parametrize(("entrypoint", "cmd", "args"), [
    (None, None, ["/entry", "serve", "--port", "80"]),  # all the image's
    (None, ["sh"], ["/entry", "sh"]),  # a Cmd replaces the image's Cmd only
    (["/bin/sh", "-c"], None, ["/bin/sh", "-c"]),  # an Entrypoint drops the image's Cmd
    (["/bin/sh", "-c"], ["ls"], ["/bin/sh", "-c", "ls"]),
    ([], None, []),  # --entrypoint "": nothing left
    ([], ["echo", "hi"], ["echo", "hi"]),
])
def test_entrypoint_and_cmd(entrypoint: list[str] | None, cmd: list[str] | None,
                            args: list[str]) -> None:
    merged = merge_config(replace(BASE, entrypoint=entrypoint, cmd=cmd), IMAGE)
    assert merged.args == args


def test_the_image_alone() -> None:
    merged = merge_config(BASE, IMAGE)
    assert (merged.entrypoint, merged.cmd) == (["/entry"], ["serve", "--port", "80"])
    assert merged.env == ["PATH=/usr/bin", "MODE=prod"]
    assert (merged.working_dir, merged.user, merged.stop_signal) == ("/srv", "app", "SIGQUIT")
    assert merged.exposed_ports == ["80/tcp"] and merged.volumes == ["/data"]
    assert merged.labels == {"a": "1", "b": "2"}
    assert merged.healthcheck == Healthcheck(["CMD", "check"], interval=5_000_000_000,
                                             retries=2)


def test_the_container_wins_field_by_field() -> None:
    own = replace(BASE, env=["MODE=dev", "NEW=1"], working_dir="/tmp", user="root",
                  labels={"b": "3", "c": "4"}, stop_signal="SIGINT",
                  ports=[PortBinding(53, "udp", "", 0), PortBinding(80, "tcp", "", 8080)],
                  healthcheck=Healthcheck(["CMD-SHELL", "true"]))
    merged = merge_config(own, IMAGE)
    assert merged.env == ["PATH=/usr/bin", "MODE=dev", "NEW=1"]
    assert (merged.working_dir, merged.user, merged.stop_signal) == ("/tmp", "root", "SIGINT")
    assert merged.labels == {"a": "1", "b": "3", "c": "4"}
    assert merged.exposed_ports == ["53/udp", "80/tcp"]  # published ports are exposed too
    assert merged.healthcheck is not None and merged.healthcheck.test == ["CMD-SHELL", "true"]
    assert merged.healthcheck.interval == 5_000_000_000  # zero fields take the image's


def test_an_empty_image_leaves_the_container_settings() -> None:
    merged = merge_config(replace(BASE, cmd=["true"]), {})
    assert merged.args == ["true"] and merged.env == [] and merged.working_dir == ""
    assert merged.healthcheck is None and merged.exposed_ports == []
