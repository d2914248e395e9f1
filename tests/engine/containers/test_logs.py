"""Which file a follow goes on to after its own was rotated away."""
from __future__ import annotations

import os
from pathlib import Path

from engine.containers.logs import _open_successor


def _successor(path: Path, ours: Path) -> str:
    fd = os.open(ours, os.O_RDONLY)
    try:
        successor = _open_successor(path, fd)
    finally:
        os.close(fd)
    try:
        return os.readlink(f"/proc/self/fd/{successor}").rsplit("/", 1)[1]
    finally:
        os.close(successor)


def test_a_rotated_file_goes_on_to_the_one_written_after_it(tmp_path: Path) -> None:
    path = tmp_path / "container.log"
    for name in ("container.log", "container.log.1", "container.log.2"):
        (tmp_path / name).write_text(name)
    assert _successor(path, tmp_path / "container.log.2") == "container.log.1"
    assert _successor(path, tmp_path / "container.log.1") == "container.log"


def test_a_deleted_file_goes_on_to_the_oldest_left(tmp_path: Path) -> None:
    path = tmp_path / "container.log"
    ours = tmp_path / "gone"
    ours.write_text("old lines")
    fd = os.open(ours, os.O_RDONLY)
    ours.unlink()  # max-file deleted it while we read
    try:
        for name in ("container.log", "container.log.1", "container.log.2"):
            (tmp_path / name).write_text(name)
        successor = _open_successor(path, fd)
        try:
            assert os.readlink(f"/proc/self/fd/{successor}").endswith("container.log.2")
        finally:
            os.close(successor)
    finally:
        os.close(fd)
