"""The helper's judgement of a container whose monitor is gone: a monitor that records
the end and exits between the helper's read of its record and its look at /proc left an
exit code that must stand, not become the 137 of a monitor that died without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.helper.containers import base
from engine.helper.containers.base import ContainerBase
from engine.helper.runtime.spec import ContainerDir
from engine.wire.statusfile import MONITOR_DIED

RUNNING = {"status": "running", "pid": 4242, "monitor_pid": 4241, "exit_code": 0,
           "started_at": "2026-12-07T10:00:00.000000000Z"}


def _container(tmp_path: Path) -> tuple[ContainerBase, ContainerDir]:
    containers = ContainerBase(tmp_path, 0, "skiff-test-livestatus")
    cdir = ContainerDir(containers.containers_dir / ("c" * 64))
    cdir.path.mkdir(parents=True)
    cdir.write_status(RUNNING)
    return containers, cdir


def test_an_end_recorded_just_before_the_monitor_exited_stands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    containers, cdir = _container(tmp_path)

    def monitor_ends_meanwhile(pid: int) -> bool:
        assert pid == RUNNING["monitor_pid"]
        cdir.write_status({**RUNNING, "status": "exited", "pid": 0, "exit_code": 3,
                           "finished_at": "2026-12-07T10:00:01.000000000Z"})
        return False

    monkeypatch.setattr(base, "is_alive", monitor_ends_meanwhile)
    status = containers._live_status(cdir)
    assert (status["status"], status["exit_code"], status["error"]) == ("exited", 3, "")
    assert json.loads(cdir.status.read_text())["exit_code"] == 3


def test_a_monitor_gone_without_a_word_is_recorded_killed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    containers, cdir = _container(tmp_path)
    monkeypatch.setattr(base, "is_alive", lambda pid: False)
    status = containers._live_status(cdir)
    assert (status["status"], status["exit_code"], status["error"]) == (
        "exited", 137, MONITOR_DIED)
    assert json.loads(cdir.status.read_text())["exit_code"] == 137


def test_a_forced_removal_of_a_container_that_ends_meanwhile_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """rm -f as its container ends on its own between the removal's look and the stop's
    (an `echo` just started): the stop finds nothing to stop, and the removal goes on."""
    from engine.helper.containers import ContainerService
    from engine.helper.containers.lifecycle import InvalidState

    containers = ContainerService(tmp_path, 0, "skiff-test-livestatus")
    cdir = ContainerDir(containers.containers_dir / ("c" * 64))
    cdir.path.mkdir(parents=True)
    cdir.write_status(RUNNING)
    cdir.spec.write_text("{}")
    monkeypatch.setattr(base, "is_alive", lambda pid: True)  # running, as far as it looks

    def ended_meanwhile(*_args: object, **_kwargs: object) -> None:
        raise InvalidState(f"container {'c' * 12} is not running")

    monkeypatch.setattr(containers, "stop", ended_meanwhile)
    monkeypatch.setattr(containers, "_discard", lambda *args: None)
    assert containers.remove("c" * 64, force=True) == {}
    assert not cdir.path.exists()
