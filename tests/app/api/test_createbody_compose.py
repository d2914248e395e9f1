"""What compose puts in a create body: a Healthcheck (its depends_on
``condition: service_healthy`` waits on it) and every network of the service."""

from __future__ import annotations

import pytest

from app.api.createbody import container_config, extra_endpoints
from app.api.errors import ApiError
from engine import InvalidArgument


def test_the_healthcheck_is_kept() -> None:
    config = container_config({"Image": "busybox", "Healthcheck": {
        "Test": ["CMD-SHELL", "true"], "Interval": 1_000_000_000, "Retries": 3}})
    assert config.healthcheck is not None
    assert config.healthcheck.test == ["CMD-SHELL", "true"]
    assert (config.healthcheck.interval, config.healthcheck.retries) == (1_000_000_000, 3)
    disabled = container_config({"Image": "busybox", "Healthcheck": {"Test": ["NONE"]}})
    assert disabled.healthcheck is not None and disabled.healthcheck.disabled
    assert container_config({"Image": "busybox"}).healthcheck is None


def test_a_bad_healthcheck_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="invalid healthcheck test 'RUN'"):
        container_config({"Image": "busybox", "Healthcheck": {"Test": ["RUN", "x"]}})
    with pytest.raises(ApiError, match=r"CreateRequest\.Healthcheck of type struct"):
        container_config({"Image": "busybox", "Healthcheck": "true"})


def test_networks_beyond_the_first_are_connected_after_create() -> None:
    body = {"Image": "busybox", "HostConfig": {"NetworkMode": "p_back"},
            "NetworkingConfig": {"EndpointsConfig": {
                "p_back": {"Aliases": ["db"]},
                "p_front": {"Aliases": ["web", "www"], "IPAMConfig": {"IPv4Address": "10.9.0.5"},
                            "MacAddress": "02:42:0a:09:00:05"},
                "p_admin": None}}}
    config = container_config(body)
    assert (config.network, config.network_aliases) == ("p_back", ["db"])
    none = {"aliases": [], "ip": "", "ip6": "", "mac": "", "links": [], "link_local_ips": []}
    assert extra_endpoints(body) == [
        ("p_front", {**none, "aliases": ["web", "www"], "ip": "10.9.0.5",
                     "mac": "02:42:0a:09:00:05"}), ("p_admin", none)]
    no_mode = {"Image": "busybox", "NetworkingConfig": {"EndpointsConfig": {"a": {}, "b": {}}}}
    assert container_config(no_mode).network == "a"
    assert extra_endpoints(no_mode) == [("b", none)]
    assert extra_endpoints({"Image": "busybox"}) == []
