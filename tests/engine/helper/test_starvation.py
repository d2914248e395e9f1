"""A helper that cannot be starved: endless and silent blobs, floods, nesting, hang-ups.

Each test starts a real helper, lingering so that a second connection (the same
user's other engine) can reach it, and attacks it from the first connection, as
root and as an unprivileged user. Meanwhile and afterwards, pings on either
connection must be answered within a second.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.helper.server import MAX_CONNECTIONS, socket_path
from engine.wire import protocol
from tests.peers import NOBODY, connect_as, socketpair_as

pytestmark = pytest.mark.root

PING_WITHIN = 1.0  # seconds, on a loaded two-core machine too
LAYER = "sha256:" + "5" * 64
MiB = 1 << 20


class Client:
    """One connection, driven by hand: requests go out, replies are kept by id."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = protocol.FrameReader(sock)
        self.ids = itertools.count(1)
        self.replies: dict[Any, dict[str, Any]] = {}
        protocol.send_frame(sock, {"hello": protocol.VERSION})
        hello = self._read(10.0)
        assert hello.get("hello") == protocol.VERSION, hello
        self.pid = int(hello["pid"])

    def send(self, verb: str, args: dict[str, Any] | None = None,
             fds: list[int] | None = None) -> int:
        request_id = next(self.ids)
        protocol.send_frame(self.sock, {"id": request_id, "verb": verb, "args": args or {}},
                            fds)
        return request_id

    def reply(self, request_id: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while request_id not in self.replies:
            left = deadline - time.monotonic()
            assert left > 0, f"no reply to request {request_id} within {timeout} s"
            message = self._read(left)
            self.replies[message.get("id")] = message
        return self.replies.pop(request_id)

    def call(self, verb: str, args: dict[str, Any] | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        return self.reply(self.send(verb, args), timeout)

    def ping(self) -> float:
        """Seconds a ping took; fails when it takes longer than PING_WITHIN."""
        start = time.monotonic()
        reply = self.reply(self.send("ping"), PING_WITHIN)
        assert reply.get("result", {}).get("pid") == self.pid, reply
        return time.monotonic() - start

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked sending on it
        except OSError:
            pass
        self.sock.close()

    def _read(self, timeout: float) -> dict[str, Any]:
        self.sock.settimeout(timeout)
        try:
            item = self.reader.read()
        finally:
            self.sock.settimeout(None)
        assert item is not None, "the helper hung up"
        for fd in item[1]:
            os.close(fd)
        return item[0]


class Helper:
    """A lingering helper for ``uid``, its first connection, and ways to open more."""

    def __init__(self, root: Path, uid: int, options: list[str]) -> None:
        self.root = root
        self.uid = uid
        ours, theirs = socketpair_as(uid) if uid else socket.socketpair()
        self.stderr = root.parent / f"{root.name}.stderr"
        stderr = os.open(self.stderr, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.helper", "--root", str(root),
             "--cgroup-parent", f"skiff-test-{os.getpid()}", "--idle", "1", *options],
            stdin=theirs.fileno(), stderr=stderr, close_fds=True)
        os.close(stderr)
        theirs.close()
        self.first = Client(ours)
        self.clients = [self.first]

    def connect(self) -> Client:
        path = socket_path(self.root, self.uid)
        deadline = time.monotonic() + 10
        while not path.exists():
            assert time.monotonic() < deadline, "the helper never listened"
            time.sleep(0.05)
        sock = connect_as(self.uid, str(path)) if self.uid else _connect(path)
        client = Client(sock)
        self.clients.append(client)
        return client

    @property
    def scratch(self) -> Path:
        return self.root / "layers" / "tmp"

    def leftovers(self) -> list[str]:
        """What unpacks left in the scratch directory."""
        try:
            return os.listdir(self.scratch)
        except FileNotFoundError:
            return []

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def readers(self) -> list[int]:
        """The helper's ``cat`` children (one per unpack reading a blob)."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            comm, rest = stat.split("(", 1)[1].rsplit(")", 1)
            if comm == "cat" and int(rest.split()[1]) == self.process.pid:
                found.append(int(entry))
        return found

    def memory(self, field: str) -> int:
        """VmRSS or VmHWM (the peak), in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} in /proc/{self.process.pid}/status")

    def errors(self) -> str:
        """What it wrote: on its standard error, then (lingering) in its log."""
        text = self.stderr.read_text(errors="replace")
        log = self.root / "run" / f"helper-{self.uid}.log"
        return text + (log.read_text(errors="replace") if log.exists() else "")

    def stop(self) -> str:
        """Hang up, wait for it to leave; what it wrote on the way."""
        for client in self.clients:
            client.close()
        try:
            assert self.process.wait(20) == 0
            return self.errors()
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return sock


@pytest.fixture(params=[0, NOBODY], ids=["root", "nobody"])
def uid(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def start(tmp_path: Path, uid: int) -> Iterator[Any]:
    started: list[Helper] = []

    def start(*options: str, root: Path | None = None) -> Helper:
        helper = Helper(root or tmp_path / f"helper{len(started)}", uid, list(options))
        started.append(helper)
        return helper

    yield start
    for helper in started:
        errors = helper.stop()
        assert "Traceback" not in errors, errors


@pytest.fixture
def fifos(tmp_path: Path) -> Iterator[Any]:
    """Opens FIFOs nobody writes to (we hold their write end: they never end)."""
    opened: list[int] = []

    def make(count: int) -> list[int]:
        for _ in range(count):
            path = tmp_path / f"fifo{len(opened)}"
            os.mkfifo(path)
            opened.append(os.open(path, os.O_RDWR | os.O_CLOEXEC))
        return opened[-count:]

    yield make
    for fd in opened:
        os.close(fd)


def _unpack(client: Client, fd: int, diff_id: str = LAYER) -> int:
    return client.send("unpack_layer", {"diff_id": diff_id}, [fd])


def _message(reply: dict[str, Any]) -> str:
    assert "error" in reply, reply
    return str(reply["error"]["message"])


def _eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {check.__doc__}"
        time.sleep(0.05)


def test_an_endless_blob_ends_at_the_size_limit(start: Any) -> None:
    helper = start("--max-layer-size", str(64 * MiB))
    zero = os.open("/dev/zero", os.O_RDONLY | os.O_CLOEXEC)
    try:
        request = _unpack(helper.first, zero)
    finally:
        os.close(zero)
    helper.first.ping()
    message = _message(helper.first.reply(request, 60))
    assert message == f"layer {LAYER[:19]} is larger than the 64 MiB limit", message
    helper.first.ping()
    assert helper.leftovers() == []
    assert helper.readers() == []


def test_an_endless_blob_ends_at_the_time_limit_and_pings_are_answered_meanwhile(
        start: Any) -> None:
    helper = start("--layer-time", "3")
    other = helper.connect()
    zero = os.open("/dev/zero", os.O_RDONLY | os.O_CLOEXEC)
    try:
        request = _unpack(helper.first, zero)
    finally:
        os.close(zero)
    began = time.monotonic()
    pings = 0
    while request not in helper.first.replies and time.monotonic() - began < 2.5:
        helper.first.ping()
        other.ping()
        pings += 1
        time.sleep(0.2)
    assert pings >= 3
    message = _message(helper.first.reply(request, 60))
    assert message == f"unpacking layer {LAYER[:19]} took longer than the 3 s limit", message
    other.ping()
    helper.first.ping()
    assert helper.leftovers() == []


def test_silent_fifos_take_no_worker_from_pings(start: Any, fifos: Any) -> None:
    helper = start("--layer-stall", "3")
    other = helper.connect()
    requests = [_unpack(helper.first, fd, "sha256:" + f"{i:x}" * 64)
                for i, fd in enumerate(fifos(10))]
    began = time.monotonic()
    while time.monotonic() - began < 2:
        other.ping()
        helper.first.ping()  # the same connection: a ping never waits behind an unpack
        time.sleep(0.2)
    for request in requests:  # eight at once, then the last two: two stalls at most
        message = _message(helper.first.reply(request, 30))
        assert message.startswith("the stream of layer sha256:") and \
            message.endswith(" stalled for 3 s"), message
    other.ping()
    assert helper.leftovers() == []
    _eventually(lambda: helper.readers() == [])


def test_a_flood_of_large_frames_keeps_the_helper_small(start: Any, fifos: Any) -> None:
    helper = start("--layer-stall", "60")
    other = helper.connect()
    other.ping()
    before = helper.memory("VmRSS")
    for i, fd in enumerate(fifos(8)):  # every worker of the connection is busy
        _unpack(helper.first, fd, "sha256:" + f"{i:x}" * 64)
    spec = {"args": ["true"], "env": ["X=" + "x" * (120 << 10)] * 7, "cwd": "/",
            "hostname": "h", "layers": [], "restart_policy": "no", "restart_max": 0,
            "stop_signal": 15, "network_mode": "none", "ports": [], "exposed": [],
            "aliases": [], "name": "flood", "binds": []}
    sent = [0]

    def flood() -> None:
        try:
            for n in range(400):
                frame = protocol.encode_frame({"id": 1000 + n, "verb": "container_create",
                                               "args": {"id": "f" * 64, "spec": spec}})
                assert len(frame) > 800_000
                helper.first.sock.sendall(frame)
                sent[0] += 1
        except OSError:
            pass  # we hung up on it

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    time.sleep(3)
    assert sent[0] < 400, "the helper read every frame: nothing held the flood back"
    for _ in range(5):
        other.ping()
    grown = helper.memory("VmHWM") - before
    assert grown < 100 * MiB, f"the helper grew by {grown >> 20} MiB"
    threads = helper.threads()
    helper.first.close()  # hanging up ends the unpacks and drops the queue
    flooder.join(10)
    _eventually(lambda: helper.threads() <= threads - 8)
    other.ping()
    _eventually(lambda: helper.leftovers() == [])  # a removal may still be moving trees


def test_deeply_nested_json_is_refused_and_the_helper_stays_up(start: Any) -> None:
    helper = start()
    other = helper.connect()
    for nested in (b"[" * 200_000 + b"]" * 200_000, b"[" * 300_000, b"{\"a\":" * 100_000):
        body = b'{"id": 7, "verb": "ping", "args": {"x": ' + nested + b"}}"
        helper.first.sock.sendall(len(body).to_bytes(4, "big") + body)
        reply = helper.first.reply(None, 10)
        assert reply["error"]["kind"] == "protocol"
        assert "nested deeper than 32 levels" in reply["error"]["message"] or \
            "unbalanced" in reply["error"]["message"]
        helper.first.ping()  # the same connection still answers
        other.ping()
    assert "RecursionError" not in helper.errors()


def test_a_client_that_hangs_up_mid_unpack_leaves_nothing_behind(
        start: Any, fifos: Any) -> None:
    helper = start()
    other = helper.connect()
    other.ping()
    threads = helper.threads()
    leaving = helper.connect()
    pipes = fifos(3)
    for i, fd in enumerate(pipes):
        os.write(fd, _partial_tar(i))
        _unpack(leaving, fd, "sha256:" + f"{i + 1:x}" * 64)
    zero = os.open("/dev/zero", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _unpack(leaving, zero)
    finally:
        os.close(zero)

    def started() -> bool:
        """every unpack has its scratch directory, the three from a tar with files in it"""
        names = helper.leftovers()
        return len(names) == 4 and sum(bool(os.listdir(helper.scratch / n))
                                       for n in names) == 3

    _eventually(started)
    leaving.close()
    _eventually(lambda: helper.leftovers() == [])
    _eventually(lambda: helper.readers() == [])
    _eventually(lambda: helper.threads() <= threads)
    other.ping()


def test_the_helper_of_a_client_that_hung_up_mid_unpack_exits(start: Any) -> None:
    helper = start()
    zero = os.open("/dev/zero", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _unpack(helper.first, zero)
    finally:
        os.close(zero)
    _eventually(lambda: helper.readers() != [])
    helper.first.close()
    assert helper.process.wait(20) == 0
    assert helper.leftovers() == []


def test_cancel_stops_an_unpack(start: Any, fifos: Any) -> None:
    helper = start()
    [fifo] = fifos(1)
    os.write(fifo, _partial_tar(0))
    request = _unpack(helper.first, fifo)
    _eventually(lambda: helper.leftovers() != [])
    assert helper.first.call("cancel", {"request": request})["result"] == {"cancelled": True}
    reply = helper.first.reply(request, 10)
    assert reply["error"]["kind"] == "cancelled", reply
    assert helper.leftovers() == []
    assert helper.first.call("cancel", {"request": request})["result"] == {"cancelled": False}


def test_a_helper_starting_leaves_another_helpers_unpack_alone(start: Any) -> None:
    helper = start()
    head = _partial_tar(0)
    tar = head + bytes(1024)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    blob, feed = os.pipe2(os.O_CLOEXEC)
    try:
        os.write(feed, head)
        request = _unpack(helper.first, blob, diff_id)
    finally:
        os.close(blob)
    _eventually(lambda: helper.leftovers() != [])
    start(root=helper.root).first.ping()  # it cleaned the scratch directory as it started
    assert helper.leftovers() != []
    os.write(feed, tar[len(head):])
    os.close(feed)
    assert helper.first.reply(request, 30).get("result") == 3 * 4096
    assert (helper.root / "layers" / "sha256" / diff_id[7:] / "dir" / "file2").is_file()


def test_connections_beyond_the_limit_are_refused_politely(start: Any) -> None:
    helper = start()
    for _ in range(MAX_CONNECTIONS - 1):
        helper.connect()
    path = socket_path(helper.root, helper.uid)
    sock = connect_as(helper.uid, str(path)) if helper.uid else _connect(path)
    sock.settimeout(10)
    try:
        item = protocol.FrameReader(sock).read()  # refused at once, before its hello
        assert item is not None and "already serves" in item[0]["error"]["message"]
        assert sock.recv(1) == b""
    finally:
        sock.close()
    helper.first.ping()
    helper.clients.pop().close()  # one less: the next one is served, once it has gone
    deadline = time.monotonic() + 10
    while True:
        try:
            helper.connect().ping()
            break
        except (AssertionError, OSError):  # refused: still counted
            assert time.monotonic() < deadline, "a connection's end never freed its place"
            time.sleep(0.1)


async def test_a_cancelled_call_cancels_its_request(
        tmp_path: Path, fifos: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from engine.helperclient import HelperClient

    monkeypatch.setenv("SKIFF_HELPER_IDLE", "0")
    client = HelperClient(tmp_path / "helper", f"skiff-test-{os.getpid()}")
    try:
        await client.call("ping")
        [fifo] = fifos(1)
        os.write(fifo, _partial_tar(0))
        call = asyncio.ensure_future(client.call("unpack_layer", {"diff_id": LAYER},
                                                 fds=[fifo]))
        scratch = tmp_path / "helper" / "layers" / "tmp"
        for _ in range(200):
            if scratch.is_dir() and os.listdir(scratch):
                break
            await asyncio.sleep(0.05)
        assert os.listdir(scratch)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        for _ in range(200):
            if not os.listdir(scratch):
                break
            await asyncio.sleep(0.05)
        assert os.listdir(scratch) == []
        assert await client.call("ping")
    finally:
        await client.close()


def _partial_tar(seed: int) -> bytes:
    """The start of a layer: a few files, and no end (the rest never comes)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for n in range(3):
            content = bytes([seed + n]) * 4096
            info = tarfile.TarInfo(f"dir/file{n}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        end = tar.offset  # before the zero blocks that end an archive
    return data.getvalue()[:end]
