"""Unpacking a tar of members, and what the tests compare before and after."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

from engine.helper.layers import unpack_layer
from tests.layer_corpus import Member, compress, digest, tar_bytes


def unpack(layers: Path, members: list[Member], how: str = "plain") -> tuple[str, int]:
    tar = tar_bytes(members)
    blob = compress(tar, how)
    diff_id = digest(tar)
    size = unpack_layer(io.BytesIO(blob), layers, diff_id=diff_id, digest=digest(blob))
    return diff_id, size


def snapshot(root: Path, skip: str = "") -> dict[str, tuple[object, ...]]:
    """Everything observable about a tree, without following symlinks."""
    seen: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root) and skip in dirnames:
            dirnames.remove(skip)
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                extra: object = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            else:
                extra = None
            seen[path] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, extra)
    return seen


def temp_leftovers(layers: Path) -> list[str]:
    tmp = layers / "tmp"
    return os.listdir(tmp) if tmp.exists() else []
