"""The engine's side of the helper's connection: what its reader thread does with the
helper's last words once the command's event loop has closed; whether reaching the
helper may ask for a password."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from engine.helperclient import HelperClient
from engine.wire import protocol


def _client_of_a_closed_loop(tmp_path: Path) -> HelperClient:
    client = HelperClient(tmp_path / "helper", "skiff-test")
    loop = asyncio.new_event_loop()
    loop.close()
    client._loop = loop  # the command ended: asyncio.run closed its loop
    return client


def test_the_helper_leaving_after_the_loop_closed_ends_the_reader_quietly(
        tmp_path: Path) -> None:
    client = _client_of_a_closed_loop(tmp_path)
    ours, theirs = socket.socketpair()
    client._reader = protocol.FrameReader(ours)
    theirs.close()
    client._read_replies(ours)  # was: RuntimeError: Event loop is closed, in the thread
    ours.close()


def test_a_reply_that_comes_too_late_has_its_descriptors_closed(tmp_path: Path) -> None:
    client = _client_of_a_closed_loop(tmp_path)
    read, write = os.pipe()
    client._deliver({"id": 1, "ok": True}, [read])
    with pytest.raises(OSError):
        os.fstat(read)
    os.close(write)


def test_only_a_user_without_a_helper_there_may_be_asked_for_a_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a pull decides on before it knows it needs the helper: pkexec may ask."""
    client = HelperClient(tmp_path / "helper", "skiff-test")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert client.starts_unasked()
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert not client.starts_unasked()
    (tmp_path / "helper" / "run").mkdir(parents=True)
    (tmp_path / "helper" / "run" / f"helper-{os.getuid()}.sock").touch()  # one lingers
    assert client.starts_unasked()
