"""A new container's hostname and hosts files, written by the one writer of its /etc files."""

from __future__ import annotations

import os
from pathlib import Path

from engine.helper.network import etcfiles


def test_first_files_name_the_container_and_are_readable_inside(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        etcfiles.write_first_files(tmp_path, "web-1")
    finally:
        os.umask(old)
    assert (tmp_path / "hostname").read_text() == "web-1\n"
    assert (tmp_path / "hosts").read_text() == (
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tweb-1\n")
    for name in ("hostname", "hosts"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644


def test_first_files_are_rewritten_in_place(tmp_path: Path) -> None:
    etcfiles.write_first_files(tmp_path, "old")
    inode = (tmp_path / "hosts").stat().st_ino
    etcfiles.write_first_files(tmp_path, "new")
    assert (tmp_path / "hosts").stat().st_ino == inode  # a bind mount keeps seeing it
    assert "127.0.1.1\tnew\n" in (tmp_path / "hosts").read_text()
