"""A layer's blob as the helper reads it from the caller's descriptor (layersource.py)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from engine.errors import LayerError
from engine.helper import layersource
from engine.helper.layersource import BlobSource, Budget, UnpackLimits


def _read_all(source: BlobSource) -> bytes:
    out = bytearray()
    while data := source.read(1 << 16):
        out += data
    return bytes(out)


def _no_cat(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("cat was started")


def test_a_pipe_is_read_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a pull streams: no `cat` between the caller's pipe and the unpacker."""
    monkeypatch.setattr(layersource.subprocess, "Popen", _no_cat)
    reader, writer = os.pipe()
    data = os.urandom(3 << 20)  # more than a pipe holds: the reads wait for the writer

    def write() -> None:
        with os.fdopen(writer, "wb") as out:
            out.write(data)

    feeding = threading.Thread(target=write)
    feeding.start()
    source = BlobSource(reader, Budget(UnpackLimits(), "test"), 0)
    try:
        assert _read_all(source) == data
    finally:
        source.close()
        feeding.join()


def test_a_silent_pipe_stalls_without_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layersource.subprocess, "Popen", _no_cat)
    reader, writer = os.pipe()
    source = BlobSource(reader, Budget(UnpackLimits(stall_seconds=0.2), "test"), 0)
    try:
        with pytest.raises(LayerError, match="stalled"):
            source.read(1 << 16)
    finally:
        source.close()
        os.close(writer)


def test_a_file_is_read_through_cat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file may be on a mount that never answers: `cat`, which can be killed, reads it."""
    blob = tmp_path / "blob"
    blob.write_bytes(b"layer" * 1000)
    started: list[str] = []
    popen = layersource.subprocess.Popen

    def recording(argv: list[str], **kwargs: Any) -> Any:
        started.append(os.path.basename(argv[0]))
        return popen(argv, **kwargs)

    monkeypatch.setattr(layersource.subprocess, "Popen", recording)
    source = BlobSource(os.open(blob, os.O_RDONLY), Budget(UnpackLimits(), "test"), 0)
    try:
        assert _read_all(source) == b"layer" * 1000
    finally:
        source.close()
    assert started == ["cat"]
