"""Container and volume names: docker's rule, one limit, docker's error texts."""

from __future__ import annotations

import re

import pytest

from engine.errors import InvalidArgument
from engine.names import (
    NAME_MAX,
    NAME_PATTERN,
    NETWORK_NAME_PATTERN,
    check_container_name,
    check_network_name,
    check_volume_name,
    generate_name,
    image_name,
    next_free,
)
from engine.wire.protocol import VERBS


@pytest.mark.parametrize("name", ["ab", "web-1", "a.b_c-d", "9lives", "x" * NAME_MAX])
def test_good_names(name: str) -> None:
    assert check_container_name(name) == name
    assert check_volume_name(name) == name
    assert re.match(NAME_PATTERN, name)


@pytest.mark.parametrize("name", ["", "a", "-dash", "_x", ".x", "a b", "a/b", "é9", "x:y"])
def test_bad_names_in_docker_words(name: str) -> None:
    with pytest.raises(InvalidArgument) as container:
        check_container_name(name)
    assert str(container.value) == (
        f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    with pytest.raises(InvalidArgument) as volume:
        check_volume_name(name)
    assert str(volume.value) == (
        f'"{name}" includes invalid characters for a local volume name, only '
        '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, '
        "use absolute path")
    assert not re.match(NAME_PATTERN, name) or len(name) == 1  # stored before the 2-char rule


def test_one_limit_that_the_helper_shares() -> None:
    too_long = "n" * (NAME_MAX + 1)
    for check in (check_container_name, check_volume_name):
        with pytest.raises(InvalidArgument, match=rf"^Invalid \w+ name \(n{{20}}\.\.\., "
                                                  rf"{NAME_MAX + 1} characters\): a name has at "
                                                  rf"most {NAME_MAX} characters$"):
            check(too_long)
    assert not re.match(NAME_PATTERN, too_long)
    assert VERBS["volume_create"]["name"].pattern is NAME_PATTERN


def test_docker_leading_slash() -> None:
    assert check_container_name("/web") == "web"


@pytest.mark.parametrize(("ref", "taken", "name"), [
    ("busybox", set(), "busybox"),
    ("docker.io/library/busybox:latest", set(), "busybox"),
    ("127.0.0.1:5000/team/web-app:1.2", set(), "web-app"),
    ("nginx@sha256:" + "a" * 64, set(), "nginx"),
    ("!!!", set(), "container"),
    ("x", set(), "container"),  # one character is not a name
    ("busybox", {"busybox"}, "busybox-2"),
    ("busybox", {"busybox", "busybox-2", "busybox-3"}, "busybox-4"),
])
def test_names_from_images_count_up(ref: str, taken: set[str], name: str) -> None:
    assert image_name(ref, taken) == name
    assert check_container_name(name) == name


def test_made_up_names_are_free_and_valid() -> None:
    taken = {"web", "web-2"}
    assert next_free("web", taken) == "web-3"
    made = generate_name(taken)
    assert made not in taken and check_container_name(made) == made


@pytest.mark.parametrize("name", ["my_net-1.x", "ab", "n" * 64])
def test_network_names(name: str) -> None:
    assert check_network_name(name) == name
    assert VERBS["network_create"]["name"].pattern is NETWORK_NAME_PATTERN


@pytest.mark.parametrize(("name", "message"), [
    ("", "invalid network name ''"), ("-x", "invalid network name '-x'"),
    ("a b", "invalid network name 'a b'"), ("n" * 65, "at most 64"),
    ("host", "network name 'host' is reserved"), ("none", "is reserved"),
])
def test_bad_network_names(name: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        check_network_name(name)
