"""The one tar extractor under docker cp's rules (a layer's are tests/engine/helper/layers/)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from engine.helper.untar import Refused, Rules, TarExtractor

CP = Rules(follow_links=True, absolute_names=True, owners=False, setid=False, devices=False,
           xattrs=False, replace_any=False, links_within=False, base_entry=False)


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> tarfile.TarFile:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    buffer.seek(0)
    return tarfile.open(fileobj=buffer, mode="r")


def _entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **fields: object
           ) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mtime = 1_700_000_000
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "dest").mkdir()
    (tmp_path / "etc").mkdir()
    yield tmp_path


def _extract(root: Path, tar: tarfile.TarFile, rules: Rules = CP) -> None:
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    extractor = TarExtractor(fd, rules, base=["dest"])
    try:
        for member in tar:
            extractor.apply(tar, member)
        extractor.finish()
    finally:
        extractor.close()
        os.close(fd)


def test_owners_set_id_bits_and_the_destination_follow_the_rules(root: Path) -> None:
    _extract(root, _tar(_entry(".", tarfile.DIRTYPE, mode=0o700),
                        _entry("a/tool", data=b"x", mode=0o4755, uid=1000, gid=1000)))
    tool = os.lstat(root / "dest/a/tool")
    assert (tool.st_uid, tool.st_gid) == (0, 0)  # not the archive's: owners off
    assert stat.S_IMODE(tool.st_mode) == 0o755  # set-uid dropped
    assert stat.S_IMODE(os.lstat(root / "dest").st_mode) != 0o700  # "." left alone
    _extract(root, _tar(_entry("b", data=b"y", mode=0o4755, uid=7, gid=8)),
             replace(CP, owners=True, setid=True))
    kept = os.lstat(root / "dest/b")
    assert (kept.st_uid, kept.st_gid, stat.S_IMODE(kept.st_mode)) == (7, 8, 0o4755)


@pytest.mark.parametrize(("first", "second", "reason"), [
    (_entry("x", tarfile.DIRTYPE, mode=0o755), _entry("x", data=b"f"), "file_over_dir"),
    (_entry("x", data=b"f"), _entry("x", tarfile.DIRTYPE, mode=0o755), "dir_over_file"),
])
def test_a_directory_and_a_file_never_replace_each_other(
        root: Path, first: tuple[tarfile.TarInfo, bytes], second: tuple[tarfile.TarInfo, bytes],
        reason: str) -> None:
    with pytest.raises(Refused) as refused:
        _extract(root, _tar(first, second))
    assert refused.value.reason == reason


def test_no_device_and_no_climbing_out(root: Path) -> None:
    with pytest.raises(Refused) as refused:
        _extract(root, _tar(_entry("null", tarfile.CHRTYPE, devmajor=1, devminor=3)))
    assert refused.value.reason == "device" and not (root / "dest/null").exists()
    with pytest.raises(Refused) as refused:
        _extract(root, _tar(_entry("../etc/passwd", data=b"evil")))
    assert refused.value.reason == "dotdot" and not (root / "etc/passwd").exists()


def test_a_symlink_in_the_tree_is_followed_inside_the_root_only(root: Path) -> None:
    """An absolute symlink the tar made leads to the root's /etc, never the host's."""
    name = f"skiff-untar-{os.getpid()}"
    _extract(root, _tar(_entry("up", tarfile.SYMTYPE, linkname="/etc"),
                        _entry(f"up/{name}", data=b"mine", mode=0o644)))
    assert (root / "etc" / name).read_bytes() == b"mine"
    assert not Path("/etc", name).exists()
    assert os.readlink(root / "dest/up") == "/etc"


def test_a_hard_link_to_a_file_already_there_but_never_to_a_directory(root: Path) -> None:
    (root / "dest/old").write_bytes(b"o")
    _extract(root, _tar(_entry("new", tarfile.LNKTYPE, linkname="old")))
    assert os.lstat(root / "dest/new").st_ino == os.lstat(root / "dest/old").st_ino
    (root / "dest/dir").mkdir()
    with pytest.raises(Refused) as refused:
        _extract(root, _tar(_entry("link", tarfile.LNKTYPE, linkname="dir")))
    assert refused.value.reason == "link_dir"
