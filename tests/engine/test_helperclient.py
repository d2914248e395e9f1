"""The engine's side of the helper's connection: what its reader thread does with the
helper's last words once the command's event loop has closed; whether reaching the
helper may ask for a password."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
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


def _lingering_helper(client: HelperClient, reply: bytes | None) -> threading.Thread:
    """A listener where a lingering helper's would be: it reads the hello and sends
    ``reply`` (None: hangs up) in two pieces, as a loaded machine may deliver it."""
    run = client.root / "run"
    run.mkdir(parents=True, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(run / f"helper-{os.getuid()}.sock"))
    listener.listen(1)

    def serve() -> None:
        with listener, listener.accept()[0] as conn:
            assert protocol.FrameReader(conn).read() == ({"hello": protocol.VERSION}, [])
            if reply is not None:
                conn.sendall(reply[:7])
                time.sleep(0.05)  # the client may read the first piece alone
                conn.sendall(reply[7:])

    thread = threading.Thread(target=serve)
    thread.start()
    return thread


async def _connect(client: HelperClient) -> socket.socket | None:
    client._loop = asyncio.get_running_loop()
    return await client._connect_lingering()


def test_a_lingering_helper_is_greeted_on_the_loop(tmp_path: Path) -> None:
    client = HelperClient(tmp_path / "helper", "skiff-test")
    hello = {"hello": protocol.VERSION, "root": str(tmp_path / "elsewhere"), "pid": 4321,
             "cgroup_parent": "skiff-there"}
    serving = _lingering_helper(client, protocol.encode_frame(hello))
    sock = asyncio.run(_connect(client))
    serving.join()
    assert sock is not None and sock.getblocking()  # the reader thread reads it blocking
    assert (client.root, client.cgroup_parent, client.pid) == (
        tmp_path / "elsewhere", "skiff-there", 4321)
    sock.close()


@pytest.mark.parametrize("reply", [None, protocol.encode_frame({"hello": -1})])
def test_a_helper_on_its_way_out_is_not_adopted(tmp_path: Path, reply: bytes | None) -> None:
    client = HelperClient(tmp_path / "helper", "skiff-test")
    serving = _lingering_helper(client, reply)
    assert asyncio.run(_connect(client)) is None  # the caller starts a helper of its own
    serving.join()


def test_a_helper_whose_backlog_is_full_is_waited_for(tmp_path: Path) -> None:
    """Many commands at once fill the helper's backlog: a connect then fails with
    EAGAIN until the helper accepts, and must wait, not take the helper for gone
    (and start one of its own)."""
    client = HelperClient(tmp_path / "helper", "skiff-test")
    run = client.root / "run"
    run.mkdir(parents=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(run / f"helper-{os.getuid()}.sock"))
    listener.listen(0)
    waiting = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2)]
    for other in waiting:  # the commands before ours, not accepted yet
        other.setblocking(False)
        try:
            other.connect(listener.getsockname())
        except BlockingIOError:
            pass

    def serve() -> None:
        time.sleep(0.1)  # ours tries while the backlog is full
        listener.settimeout(10)  # ours never came: the assert below says so
        with listener, contextlib.suppress(TimeoutError):
            while True:
                conn, _ = listener.accept()
                item = protocol.FrameReader(conn).read()
                if item is not None:  # ours: the others never say hello
                    conn.sendall(protocol.encode_frame({"hello": protocol.VERSION}))
                    conn.close()
                    return
                conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    for other in waiting:
        other.close()
    sock = asyncio.run(_connect(client))
    thread.join()
    assert sock is not None
    sock.close()


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="root runs its own copy's helper")
async def test_the_helper_is_this_engine_s_code_whatever_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m engine.helper`` looks in the working directory first: a command run
    from a folder with an ``engine`` package of its own ran that package's helper."""
    from engine import paths
    from engine.wire.requests import Verb

    decoy = tmp_path / "engine" / "helper"
    decoy.mkdir(parents=True)
    (tmp_path / "engine" / "__init__.py").write_text("")
    (decoy / "__init__.py").write_text("")
    (decoy / "__main__.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    client = HelperClient(Path(paths.helper_root()), paths.cgroup_parent())
    try:
        assert await client.call(Verb.PING) is not None
    finally:
        await client.close()
    assert not (tmp_path / "ran").exists()
