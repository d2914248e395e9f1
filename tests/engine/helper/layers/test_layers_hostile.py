"""The layer unpacker against hostile tars, as root: escapes refused, and entries that
replace others (or a directory it holds open) never writing through them."""

from __future__ import annotations

import contextlib
import io
import os
import stat
from pathlib import Path

import pytest

from engine.errors import LayerError
from engine.helper.layers import layer_path, unpack_layer
from tests.engine.helper.layers.trees import snapshot, temp_leftovers
from tests.layer_corpus import (
    HOST_PROBE,
    MALICIOUS,
    OUTSIDE,
    REPLACING,
    Case,
    Member,
    digest,
    dir_,
    file,
    sym,
    tar_bytes,
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="unpacking layers needs root (mknod, chown)"),
]


def _aimed(case: Case, outside: Path) -> list[Member]:
    members = []
    for info, data in case.members:
        info = info.replace(name=info.name.replace(OUTSIDE, str(outside)),
                            linkname=info.linkname.replace(OUTSIDE, str(outside)),
                            deep=False)
        members.append((info, data))
    return members


@pytest.mark.parametrize("case", MALICIOUS, ids=[c.id for c in MALICIOUS])
def test_hostile_tars_are_refused(layers: Path, outside: Path, tmp_path: Path,
                                  case: Case) -> None:
    (layers / "sha256").mkdir(parents=True)
    before = snapshot(tmp_path, skip="layers")
    around = sorted(os.listdir(tmp_path.parent))
    etc_passwd = Path("/etc/passwd").read_bytes()
    tar = tar_bytes(_aimed(case, outside))
    probe = Path("/etc") / HOST_PROBE
    try:
        with pytest.raises(LayerError, match="refusing the layer"):
            unpack_layer(io.BytesIO(tar), layers, diff_id=digest(tar))
        assert not os.path.lexists(probe)
    finally:
        with contextlib.suppress(FileNotFoundError):
            probe.unlink()
    assert sorted(os.listdir(layers)) == ["sha256", "tmp"]
    assert os.listdir(layers / "sha256") == []
    assert temp_leftovers(layers) == []
    assert snapshot(tmp_path, skip="layers") == before
    assert sorted(os.listdir(tmp_path.parent)) == around
    assert Path("/etc/passwd").read_bytes() == etc_passwd
    assert not os.path.lexists("/abs/path")


@pytest.mark.parametrize("case", REPLACING, ids=[c.id for c in REPLACING])
def test_replacing_entries_never_write_through(layers: Path, outside: Path, tmp_path: Path,
                                              case: Case) -> None:
    (layers / "sha256").mkdir(parents=True)
    before = snapshot(outside)
    tar = tar_bytes(_aimed(case, outside))
    unpack_layer(io.BytesIO(tar), layers, diff_id=digest(tar))
    assert snapshot(outside) == before
    assert temp_leftovers(layers) == []
    root = layer_path(layers, digest(tar))
    assert sorted(os.listdir(tmp_path)) == ["layers", "outside"]
    for info, _ in case.members[-1:]:
        path = root / info.name.removeprefix(".wh.")
        st = os.lstat(path)
        if info.isreg() and not info.name.startswith(".wh."):
            assert stat.S_ISREG(st.st_mode)
        elif info.isdir():
            assert stat.S_ISDIR(st.st_mode)
        elif info.issym():
            assert stat.S_ISLNK(st.st_mode)
        else:
            assert stat.S_ISCHR(st.st_mode)


# Directories the extractor still holds open, replaced by a later entry: what comes
# after must go by the new entry, never through the directory that was there.
REPLACED_OPEN_DIRS = [
    Case("symlink-replaces-open-dir",
         [dir_("d"), file("d/f", b"x"), sym("d", OUTSIDE), file("d/g", b"x")]),
    Case("symlink-replaces-open-parent",
         [dir_("a/b"), file("a/b/f", b"x"), sym("a", OUTSIDE), file("a/b/g", b"x")]),
    Case("file-replaces-open-dir",
         [dir_("d"), file("d/f", b"x"), file("d", b"x"), file("d/g", b"x")]),
]


@pytest.mark.parametrize("case", REPLACED_OPEN_DIRS, ids=[c.id for c in REPLACED_OPEN_DIRS])
def test_entries_under_a_replaced_open_directory_are_refused(
        layers: Path, outside: Path, case: Case) -> None:
    before = snapshot(outside)
    tar = tar_bytes(_aimed(case, outside))
    with pytest.raises(LayerError, match="refusing the layer"):
        unpack_layer(io.BytesIO(tar), layers, diff_id=digest(tar))
    assert snapshot(outside) == before
    assert temp_leftovers(layers) == []
