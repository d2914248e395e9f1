from __future__ import annotations

from app.desktop.containers.names import base_name, generate_name


def test_base_name_from_references() -> None:
    assert base_name("busybox") == "busybox"
    assert base_name("docker.io/library/busybox:latest") == "busybox"
    assert base_name("127.0.0.1:5000/team/web-app:1.2") == "web-app"
    assert base_name("nginx@sha256:abcd") == "nginx"
    assert base_name("!!!") == "container"


def test_generated_names_count_up() -> None:
    assert generate_name("busybox:latest", set()) == "busybox"
    assert generate_name("busybox", {"busybox"}) == "busybox-2"
    assert generate_name("busybox", {"busybox", "busybox-2", "busybox-3"}) == "busybox-4"
