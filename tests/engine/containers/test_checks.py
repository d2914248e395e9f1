"""The engine's own checks of container settings and the helper's refusals, in words."""

from __future__ import annotations

import os

import pytest

from engine.containers.checks import MIN_MEMORY, check_config, check_resources
from engine.containers.config import ContainerConfig, Resources
from engine.errors import InvalidArgument, NetworkNotFound, ProtocolError
from engine.helperclient import plain_refusal
from engine.names import NAME_MAX, NAME_PATTERN, check_container_name
from engine.wire.protocol import VERBS, validate


def test_memory_below_docker_minimum_is_refused_in_docker_words() -> None:
    with pytest.raises(InvalidArgument, match=r"^Minimum memory limit allowed is 6MB$"):
        check_resources(Resources(memory=MIN_MEMORY - 1))
    check_resources(Resources(memory=MIN_MEMORY))
    check_resources(Resources())


def test_cpus_outside_docker_range() -> None:
    cpus = os.cpu_count() or 1
    for nano in (1_000_000, (cpus + 1) * 10**9):
        with pytest.raises(InvalidArgument, match=f"^Range of CPUs is from 0.01 to {cpus}.00"):
            check_resources(Resources(nano_cpus=nano))
    check_resources(Resources(nano_cpus=10_000_000))


def test_config_fields_the_helper_would_refuse() -> None:
    base = ContainerConfig(image="busybox", image_id="")
    for change, words in ((dict(hostname="a_b"), 'invalid hostname "a_b"'),
                          (dict(user="x y"), 'invalid user "x y"'),
                          (dict(network_aliases=["-a"]), 'invalid network alias "-a"'),
                          (dict(network_aliases=["a" * 254]), "at most 253 characters")):
        with pytest.raises(InvalidArgument, match=words):
            check_config(ContainerConfig(**{**base.__dict__, **change}))
    with pytest.raises(NetworkNotFound, match="network a/b not found"):
        check_config(ContainerConfig(**{**base.__dict__, "network": "a/b"}))
    check_config(base)
    # docker compose names every container (PROJECT-SERVICE-N) as one of its aliases
    check_config(ContainerConfig(**{**base.__dict__, "network_aliases": ["a_b", "p" * 70]}))


def test_one_name_rule_for_engine_and_helper() -> None:
    longest = "a" * NAME_MAX
    assert check_container_name(longest) == longest
    assert check_container_name("/web") == "web"
    with pytest.raises(InvalidArgument, match="at most 128 characters"):
        check_container_name(longest + "a")
    spec = VERBS["container_create"]["spec"].items
    assert spec is not None and spec["name"].pattern is NAME_PATTERN
    assert VERBS["network_connect"]["name"].pattern is NAME_PATTERN


def test_protocol_refusals_lose_their_schema_path() -> None:
    with pytest.raises(ProtocolError) as refused:
        validate("container_signal", {"id": "0" * 64, "signal": 99})
    assert plain_refusal(str(refused.value)) == (
        "the privileged helper refused the signal: it must be at most 64")
    assert plain_refusal("container_create.spec.memory: must be at least 4194304") == (
        "the privileged helper refused the memory limit: it must be at least 4194304")
    assert plain_refusal("container_create.spec.aliases[0]: malformed value") == (
        "the privileged helper refused the network alias: malformed value")
