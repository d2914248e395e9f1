"""The helper's bounds as plain code: JSON depth, request envelopes, unpack budgets.

The real helper under attack is tests/engine/helper/test_starvation.py; here are the
parts that need no root, and the unpack limits on in-memory blobs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import select
import socket
import struct
import tarfile
import threading
import time
from pathlib import Path

import pytest

from engine.errors import Cancelled, LayerError
from engine.helper.cancel import Cancellation
from engine.helper.layersource import Budget, UnpackLimits, describe_seconds, describe_size
from engine.wire import protocol


def _frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def _read_sent(sock: socket.socket, reader: protocol.FrameReader, body: bytes) -> object:
    """What the reader makes of ``body`` in a frame (sent by a thread: it can be large)."""
    sender = threading.Thread(target=sock.sendall, args=(_frame(body),))
    sender.start()
    try:
        return reader.read()
    finally:
        sender.join(30)


def _nested(depth: int) -> bytes:
    return json.dumps({"id": 1, "verb": "ping", "args": {}, "x": _deep(depth - 1)}).encode()


def _deep(depth: int) -> object:
    value: object = 0
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def test_json_nested_to_the_limit_is_read_and_deeper_is_refused_unparsed() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        reader = protocol.FrameReader(theirs)
        item = _read_sent(ours, reader, _nested(protocol.MAX_DEPTH))
        assert isinstance(item, tuple) and item[0]["verb"] == "ping"
        for body in (_nested(protocol.MAX_DEPTH + 1), b"[" * 500_000 + b"]" * 500_000,
                     b"[" * 900_000, b'{"a":' * 100_000):
            with pytest.raises(protocol.BadMessage, match="nested deeper than 32 levels"):
                _read_sent(ours, reader, body)
        for body in (b"[" * 20 + b"[]" * 100 + b"]" * 5, b"][" * 40_000):
            with pytest.raises(protocol.BadMessage, match="unbalanced brackets"):
                _read_sent(ours, reader, body)
        assert _read_sent(ours, reader, b'{"id": 2}') == ({"id": 2}, [])  # still in step


def test_brackets_inside_strings_are_text() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        reader = protocol.FrameReader(theirs)
        text = '\\"[{' * 200 + "\\\\"
        body = json.dumps({"id": 1, "env": [text, "]]" * 100, '"'], "deep": _deep(20)})
        item = _read_sent(ours, reader, body.encode())
        assert isinstance(item, tuple) and item[0]["env"][0] == text


def test_a_request_envelope_has_an_id_a_verb_and_args_only() -> None:
    assert protocol.parse_request({"id": 3, "verb": "ping", "args": {}}) == (3, "ping", {})
    assert protocol.parse_request({"id": 4, "verb": "cancel", "args": {"request": 3}}) == (
        4, "cancel", {"request": 3})
    for message, request_id, words in (
            ({"id": True, "verb": "ping"}, None, "integer id"),
            ({"id": -1, "verb": "ping"}, None, "integer id"),
            ({"id": 2 ** 60, "verb": "ping"}, None, "integer id"),
            ({"id": 5, "verb": "ping", "args": {}, "pad": "x"}, 5, "unknown request field"),
            ({"id": 6, "verb": "cancel", "args": {"request": "3"}}, 6, "expected an integer")):
        with pytest.raises(protocol.BadRequest, match=words) as caught:
            protocol.parse_request(message)
        assert caught.value.request_id == request_id


def test_a_cancellation_wakes_a_poll_made_before_or_after_it() -> None:
    early = Cancellation()
    poller = select.poll()
    poller.register(early.fileno(), select.POLLIN)
    assert poller.poll(0) == []
    early.cancel()
    assert poller.poll(1000) and early.cancelled
    late = Cancellation()
    late.cancel()
    poller = select.poll()
    poller.register(late.fileno(), select.POLLIN)
    assert poller.poll(0)
    early.close()
    late.close()


def test_limits_are_said_in_round_units() -> None:
    assert describe_size(64 << 30) == "64 GiB"
    assert describe_size(3 << 20) == "3 MiB"
    assert describe_size(1000) == "1000 bytes"
    assert describe_seconds(60) == "60 s"
    assert describe_seconds(7200) == "2 h"
    assert describe_seconds(300) == "5 min"
    assert describe_seconds(2.5) == "2.5 s"


def test_a_budget_refuses_size_time_and_cancellation_in_words() -> None:
    budget = Budget(UnpackLimits(max_bytes=1 << 20), "sha256:0123456789ab")
    budget.blob(1 << 20)
    budget.files(1 << 20)  # each count on its own
    with pytest.raises(LayerError, match=r"^layer sha256:0123456789ab is larger than the "
                                         r"1 MiB limit$"):
        budget.blob(1)
    late = Budget(UnpackLimits(max_seconds=0.01), "sha256:0123456789ab")
    time.sleep(0.02)
    with pytest.raises(LayerError, match=r"took longer than the 0\.01 s limit"):
        late.tar(1)
    cancel = Cancellation()
    cancelled = Budget(UnpackLimits(), "sha256:0123456789ab", cancel)
    cancelled.check()
    cancel.cancel()
    with pytest.raises(Cancelled, match="was cancelled"):
        cancelled.check()


@pytest.mark.root
def test_a_gzip_bomb_stops_at_the_size_limit_and_leaves_nothing(tmp_path: Path) -> None:
    from engine.helper.layers import unpack_layer

    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("zeros")
        info.size = 64 << 20
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    blob = gzip.compress(tar.getvalue(), compresslevel=1)
    assert len(blob) < 1 << 20
    diff_id = "sha256:" + hashlib.sha256(tar.getvalue()).hexdigest()
    layers = tmp_path / "layers"
    budget = Budget(UnpackLimits(max_bytes=8 << 20), diff_id[:19])
    with pytest.raises(LayerError, match=r"is larger than the 8 MiB limit"):
        unpack_layer(io.BytesIO(blob), layers, diff_id=diff_id, budget=budget)
    assert os.listdir(layers / "tmp") == []
    assert not (layers / "sha256" / diff_id[7:]).exists()
