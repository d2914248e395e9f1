"""The server's kept listings: given again while nothing changed, computed again at
once after any change the engine's ChangeFeed hears (another process writing the
database, a monitor's announcement) or a changing request through the server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.api import answers as answers_module
from app.api.answers import Answers
from engine import ChangeFeed
from engine.helper.runtime.spec import announce_changes
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.cli import skiff


class Counted:
    """A listing's computation that counts its runs and may be held or made to fail."""

    def __init__(self) -> None:
        self.runs = 0
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None

    async def __call__(self) -> bytes:
        self.runs += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return f"answer {self.runs}".encode()


def _answers(tmp_path: Path, changes: Path) -> Answers:
    engine = SimpleNamespace(events=SimpleNamespace(
        change_feed=lambda: ChangeFeed(changes, tmp_path, ("skiff.db", "events.log"))))
    found = Answers()
    found.open(engine)  # type: ignore[arg-type]
    return found


@pytest.fixture
def changes(tmp_path: Path) -> Path:
    path = tmp_path / "helper" / "changes"
    path.parent.mkdir()
    announce_changes(path)
    return path


async def test_an_answer_is_kept_until_something_changes(tmp_path: Path,
                                                         changes: Path) -> None:
    answers, compute = _answers(tmp_path, changes), Counted()
    try:
        assert await answers.get("all=1", compute) == b"answer 1"
        assert await answers.get("all=1", compute) == b"answer 1"
        assert await answers.get("", compute) == b"answer 2"  # another question
        announce_changes(changes)  # a monitor recorded a status
        assert await answers.get("all=1", compute) == b"answer 3"
        (tmp_path / "skiff.db-wal").write_bytes(b"a rename by the CLI")
        assert await answers.get("all=1", compute) == b"answer 4"
        (tmp_path / "events.log").write_bytes(b"a stop")
        assert await answers.get("all=1", compute) == b"answer 5"
        answers.changed()  # a POST through this server ended
        assert await answers.get("all=1", compute) == b"answer 6"
        (tmp_path / "stats.db-wal").write_bytes(b"samples")  # changes no listing
        assert await answers.get("all=1", compute) == b"answer 6"
    finally:
        answers.close()


async def test_an_answer_is_not_given_after_its_age(tmp_path: Path, changes: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    answers, compute = _answers(tmp_path, changes), Counted()
    monkeypatch.setattr(answers_module, "MAX_AGE", 0.0)
    try:
        assert await answers.get("", compute) == b"answer 1"
        assert await answers.get("", compute) == b"answer 2"
    finally:
        answers.close()


async def test_a_burst_computes_once_and_a_client_leaving_cancels_nothing(
        tmp_path: Path, changes: Path) -> None:
    answers, compute = _answers(tmp_path, changes), Counted()
    compute.gate = asyncio.Event()
    try:
        waiting = [asyncio.create_task(answers.get("all=1", compute)) for _ in range(50)]
        while compute.runs == 0:
            await asyncio.sleep(0)
        waiting[0].cancel()  # that client hung up
        compute.gate.set()
        results = await asyncio.gather(*waiting[1:])
        assert results == [b"answer 1"] * 49 and compute.runs == 1
        assert waiting[0].cancelled()
    finally:
        answers.close()


async def test_a_failure_reaches_every_waiter_and_is_not_kept(tmp_path: Path,
                                                              changes: Path) -> None:
    answers, compute = _answers(tmp_path, changes), Counted()
    compute.gate, compute.error = asyncio.Event(), LookupError("No such image")
    try:
        waiting = [asyncio.create_task(answers.get("", compute)) for _ in range(3)]
        while compute.runs == 0:
            await asyncio.sleep(0)
        compute.gate.set()
        failed = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(f, LookupError) for f in failed)
        compute.error = None
        assert await answers.get("", compute) == b"answer 2"
    finally:
        answers.close()


async def test_nothing_is_kept_while_the_helper_has_not_announced_anything(
        tmp_path: Path) -> None:
    changes = tmp_path / "helper" / "changes"  # no helper ran yet: not there
    changes.parent.mkdir()
    answers, compute = _answers(tmp_path, changes), Counted()
    try:
        assert await answers.get("", compute) == b"answer 1"
        assert await answers.get("", compute) == b"answer 2"
        announce_changes(changes)
        assert await answers.get("", compute) == b"answer 3"
        assert await answers.get("", compute) == b"answer 3"
    finally:
        answers.close()


def _listed(server: ApiServer) -> dict[str, str]:
    """Name -> state of every container ``GET /containers/json?all=1`` lists."""
    answer = server.request("GET", "/containers/json?all=1")
    assert answer.status == 200
    return {c["Names"][0].lstrip("/"): c["State"] for c in answer.json()}


def _skiff(*args: str) -> None:
    """Another process on the server's root: the skiff CLI."""
    done = skiff(*args)
    assert done.returncode == 0, done.stderr


def _inspected(server: ApiServer, name: str) -> str:
    """The container's State.Status as ``GET /containers/NAME/json`` has it ("" if none)."""
    answer = server.request("GET", f"/containers/{name}/json")
    return str(answer.json()["State"]["Status"]) if answer.status == 200 else ""


@pytest.mark.root
def test_listings_and_inspects_show_every_change_at_once(api_server: ApiServer,
                                                         docker_cli: object) -> None:
    name = "answers-changes"
    assert name not in _listed(api_server)
    _skiff("create", "--name", name, "busybox", "sleep", "600")
    assert _listed(api_server)[name] == "created" and _inspected(api_server, name) == "created"
    assert _listed(api_server)[name] == "created"  # given again from what was kept
    assert api_server.request("POST", f"/containers/{name}/start").status == 204
    assert _listed(api_server)[name] == "running" and _inspected(api_server, name) == "running"
    assert api_server.request("POST", f"/containers/{name}/kill").status == 204
    assert _listed(api_server)[name] == "exited" and _inspected(api_server, name) == "exited"
    _skiff("rename", name, f"{name}-2")
    assert f"{name}-2" in _listed(api_server) and name not in _listed(api_server)
    assert _inspected(api_server, name) == "" and _inspected(api_server, f"{name}-2")
    _skiff("start", f"{name}-2")  # another process starts it: the monitor announces it
    assert _inspected(api_server, f"{name}-2") == "running"
    _skiff("rm", "-f", f"{name}-2")
    assert f"{name}-2" not in _listed(api_server) and _inspected(api_server, f"{name}-2") == ""
