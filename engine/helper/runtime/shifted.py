"""Image layers owned as a user namespace sees them, where the kernel cannot map them.

Linux 5.19 and later put overlay over idmapped mounts of the shared layers: no
copy at all. Older kernels cannot, so there each map (that is, each user) gets
a copy of a layer once, with every owner shifted through the map (container
uid u becomes host uid map(u)), made next to the shared layers and reused by
every later container of that user. Tests force this path with
``SKIFF_USERNS_LAYERS=copy``, which only a helper started by root honours.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

from engine.errors import HelperError
from engine.helper.runtime.idmap import UsernsMap

__all__ = ["copies_dir", "ensure", "forget", "layers_mode"]

_OVERFLOW_ID = 65534  # what an id the map lacks becomes (the kernel shows it so too)
_FILE_CAPS = "security.capability"


def layers_mode(forced: str | None, release: str) -> str:
    """"idmapped" on Linux 5.19+ (overlay over idmapped layers), else "copy"."""
    if forced in ("idmapped", "copy"):
        return forced
    try:
        major, minor = (int(part) for part in release.split(".")[:2])
    except ValueError:
        return "copy"
    return "idmapped" if (major, minor) >= (5, 19) else "copy"


def copies_dir(root: Path, ids: UsernsMap) -> Path:
    """Where the shifted copies for this map live (one directory per map)."""
    key = json.dumps([ids.uids.to_json(), ids.gids.to_json()]).encode()
    return root / "shifted" / hashlib.sha256(key).hexdigest()[:16]


def ensure(layer: Path, dest_dir: Path, ids: UsernsMap) -> Path:
    """The shifted copy of ``layer`` in ``dest_dir``, made now unless it exists."""
    dest = dest_dir / layer.name
    if dest.is_dir():
        return dest
    if not layer.is_dir():
        raise HelperError(f"layer {layer.name[:12]} is not unpacked")
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(dest_dir.parent, 0o700)
    tmp = dest_dir / f".{layer.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        result = subprocess.run(["cp", "-a", "--reflink=auto", str(layer), str(tmp)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise HelperError(f"cannot copy layer {layer.name[:12]} for the user namespace: "
                              f"{result.stderr.strip()}")
        shift_tree(tmp, ids)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone unless another start won the race
    return dest


def shift_tree(top: Path, ids: UsernsMap) -> None:
    """Every owner under ``top`` (never following a symlink) shifted through the map."""
    seen: set[tuple[int, int]] = set()  # hard links: shift each inode once
    for directory, dirs, files in os.walk(top):
        for name in (*dirs, *files):
            _shift(os.path.join(directory, name), ids, seen)
    _shift(str(top), ids, seen)


def _shift(path: str, ids: UsernsMap, seen: set[tuple[int, int]]) -> None:
    st = os.lstat(path)
    if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
    uid = ids.uids.to_host(st.st_uid)
    gid = ids.gids.to_host(st.st_gid)
    regular = stat.S_ISREG(st.st_mode)
    caps = None
    if regular:
        with contextlib.suppress(OSError):
            caps = os.getxattr(path, _FILE_CAPS, follow_symlinks=False)
    os.chown(path, _OVERFLOW_ID if uid is None else uid, _OVERFLOW_ID if gid is None else gid,
             follow_symlinks=False)
    if regular and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
        os.chmod(path, stat.S_IMODE(st.st_mode))  # chown cleared them
    if caps is not None:
        with contextlib.suppress(OSError):
            os.setxattr(path, _FILE_CAPS, caps, follow_symlinks=False)


def forget(root: Path, layer_hex: str) -> None:
    """Drop every shifted copy of a layer (the shared layer is being removed)."""
    base = root / "shifted"
    if not base.is_dir():
        return
    for per_map in base.iterdir():
        copy = per_map / layer_hex
        if copy.is_dir():
            doomed = per_map / f".{layer_hex}.removing"
            with contextlib.suppress(OSError):
                os.rename(copy, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
