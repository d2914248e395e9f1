"""The monitor's release of its container's network finds the container's directory
by a descriptor: a removal may move it meanwhile (run --rm's removal goes on beside
the release)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.helper.network import is_sandbox, plan_network
from engine.helper.network import verbs as network_verbs
from engine.helper.network.networking import Networking
from engine.helper.runtime.netrelease import release_network
from tests.fixtures.networld import BACKENDS, World, assert_nothing_left

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


@pytest.fixture
def started(world: World, names: tuple[str, str],
            monkeypatch: pytest.MonkeyPatch) -> tuple[Networking, Path]:
    """A container on the default network, laid out as the helper does."""
    monkeypatch.setenv("SKIFF_NET_PREFIX", names[0])
    monkeypatch.setenv("SKIFF_NET_TABLE", names[1])
    monkeypatch.setenv("SKIFF_NETFILTER", BACKENDS[0])
    root = world.root / "helper"
    directory = root / "users" / "0" / "containers" / ("ab" * 32)
    directory.mkdir(parents=True)
    net = network_verbs.default_networking(root, 0)
    net.start_container(directory.name, plan_network("bridge"), hostname="ends")
    (directory / "network.json").write_text("{}")
    return net, directory


def _released(net: Networking, moved: Path) -> None:
    assert net.network("bridge").endpoints == {}
    assert not is_sandbox(moved / "netns") and not (moved / "network.json").exists()


def test_a_release_follows_the_directory_a_removal_moves_meanwhile(
        world: World, names: tuple[str, str], started: tuple[Networking, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    net, directory = started
    moved = directory.parent / f".{directory.name}.removing"
    found = network_verbs.default_networking

    def moving(root: Path, uid: int) -> Networking:  # the removal's move, at that moment
        os.replace(directory, moved)
        return found(root, uid)

    monkeypatch.setattr(network_verbs, "default_networking", moving)
    release_network(directory, directory.name, 0)
    _released(net, moved)
    net.teardown()
    assert_nothing_left(world, names)


def test_a_directory_moved_before_is_left_to_the_removal(
        world: World, names: tuple[str, str], started: tuple[Networking, Path]) -> None:
    net, directory = started
    moved = directory.parent / f".{directory.name}.removing"
    os.replace(directory, moved)
    release_network(directory, directory.name, 0)
    assert is_sandbox(moved / "netns") and directory.name in net.network("bridge").endpoints
    release_network(moved, directory.name, 0)  # as the removal's discard does
    _released(net, moved)
    net.teardown()
    assert_nothing_left(world, names)
