"""A create body's Binds and PortBindings are read by the engine's rules, as the CLI's -v and -p."""

from __future__ import annotations

import pytest

from app.api.createbody import container_config
from app.api.errors import ApiError
from engine.containers.config import MountSpec, PortBinding


def test_binds_and_port_bindings_mean_what_v_and_p_mean() -> None:
    config = container_config({"Image": "busybox", "HostConfig": {
        "Binds": ["/srv:/data:ro,rprivate", "cache:/cache", "/anon"],
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                         "53/udp": [{"HostPort": ""}]}}})
    assert config.mounts[:3] == [MountSpec("bind", "/data", "/srv", True),
                                 MountSpec("volume", "/cache", "cache", False),
                                 MountSpec("volume", "/anon", "", False)]
    assert config.ports == [PortBinding(80, "tcp", "127.0.0.1", 8080),
                            PortBinding(53, "udp", "", 0)]


@pytest.mark.parametrize(("host", "message"), [
    ({"Binds": ["rel/path:/data"]}, "invalid volume specification: 'rel/path:/data'"),
    ({"Binds": ["x:/data"]}, "includes invalid characters for a local volume name"),
    ({"PortBindings": {"http/tcp": [{}]}}, "invalid containerPort: 'http'"),
    ({"PortBindings": {"80/icmp": [{}]}}, "invalid proto: 'icmp'"),
    ({"PortBindings": {"80/tcp": [{"HostIp": "here"}]}}, "invalid IP address: 'here'"),
])
def test_bad_specs_are_400_in_the_engine_words(host: dict[str, object], message: str) -> None:
    with pytest.raises(ApiError, match=message):
        container_config({"Image": "busybox", "HostConfig": host})
