"""A cold pull's helper started before the CLI's imports (engine/helperspawn.py): when it
is, that the engine's client talks to that very helper, and when it is not."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import helperspawn, paths
from engine.helperclient import HelperClient
from engine.wire.requests import Verb


@pytest.fixture(autouse=True)
def _as_root() -> Iterator[None]:
    """Root only (the helper starts early for root alone); an early helper nobody took is
    ended after the test."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    yield
    left = helperspawn._early
    helperspawn._early = None
    if left is not None:
        left[1].close()
        left[2].wait(30)


@pytest.fixture
def world(skiff_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty world of this test's own."""
    monkeypatch.setenv("SKIFF_ROOT", str(tmp_path / "world"))
    return tmp_path / "world"


def _early_pid() -> int | None:
    return helperspawn._early[2].pid if helperspawn._early is not None else None


def test_the_reference_is_the_one_operand_of_pull() -> None:
    assert helperspawn._pulled(["-q", "example.com/app:1"]) == "example.com/app:1"
    assert helperspawn._pulled(["--platform", "linux/arm64", "app"]) == "app"
    assert helperspawn._pulled(["-a", "app"]) == "app"
    assert helperspawn._pulled([]) is None
    assert helperspawn._pulled(["one", "two"]) is None


def test_the_engine_talks_to_the_helper_started_early(world: Path) -> None:
    helperspawn.start_for_pull(["-q", "127.0.0.1:1/early/app:latest"])
    started = _early_pid()
    assert started is not None

    async def ping() -> object:
        client = HelperClient(Path(paths.helper_root()), paths.cgroup_parent())
        try:
            return await client.call(Verb.PING)
        finally:
            await client.close()

    assert asyncio.run(ping()) == {"pid": started}
    assert helperspawn._early is None  # taken once


def test_a_client_for_another_helper_starts_its_own(world: Path) -> None:
    helperspawn.start_for_pull(["127.0.0.1:1/early/app"])
    assert helperspawn._early is not None
    assert helperspawn.take(helperspawn.helper_command(world / "elsewhere", "other")) is None
    assert helperspawn._early is not None  # still there for the one it was started for


def _helper_socket() -> socket.socket:
    """A socket listening where a lingering helper's does."""
    run = Path(paths.helper_root(), "run")
    run.mkdir(parents=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(run / f"helper-{os.getuid()}.sock"))
    listener.listen()
    return listener


def test_no_early_helper_when_one_lingers(world: Path) -> None:
    with _helper_socket():
        helperspawn.start_for_pull(["127.0.0.1:1/early/app"])
    assert helperspawn._early is None


def test_an_early_helper_when_a_killed_one_left_its_socket(world: Path) -> None:
    """The engine's client would not take a socket nobody listens at either."""
    _helper_socket().close()  # its file stays, as a killed helper's does
    helperspawn.start_for_pull(["127.0.0.1:1/early/app"])
    assert _early_pid() is not None


def test_no_early_helper_for_a_user(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # pkexec might ask for a password
    helperspawn.start_for_pull(["127.0.0.1:1/early/app"])
    assert helperspawn._early is None


def test_no_early_helper_for_an_image_that_is_here(skiff_root: Path, busybox_image: str) -> None:
    """Pulling an image that is here starts no helper at all (engine/registry/pull.py)."""
    assert os.environ["SKIFF_ROOT"] == str(skiff_root)
    helperspawn.start_for_pull(["-q", busybox_image])
    assert helperspawn._early is None
    helperspawn.start_for_pull(["-q", "docker.io/library/busybox"])  # the same, in full
    assert helperspawn._early is None


def test_an_early_helper_for_an_image_the_store_has_not(
        skiff_root: Path, busybox_image: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The store is read (not merely found unreadable, which would start none): a copy of
    the session's, which has busybox, in a world of its own, where no helper lingers
    (the session's world has one whenever an earlier test left it serving)."""
    session_store = sqlite3.connect(Path(paths.engine_root(), "skiff.db"))
    monkeypatch.setenv("SKIFF_ROOT", str(tmp_path / "world"))
    Path(paths.engine_root()).mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(Path(paths.engine_root(), "skiff.db"))) as copy:
        session_store.backup(copy)
    session_store.close()
    helperspawn.start_for_pull(["-q", busybox_image])
    assert helperspawn._early is None  # here: no helper
    helperspawn.start_for_pull(["-q", "127.0.0.1:1/not/here:latest"])
    assert helperspawn._early is not None
