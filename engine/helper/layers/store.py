"""Where unpacked layers live (``<layers>/sha256/<hex>``), and their scratch space.

Every user's helper shares one store. A layer appears by one rename out of
``tmp/`` and goes by one rename into it; trees are removed without following a
symlink and without recursion, however deep (a layer tar decides the depth).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from engine.errors import LayerError
from engine.helper.rootpath import WALK
from engine.processes import is_alive

__all__ = [
    "OPEN_DIR",
    "clean_temp",
    "detach_layer",
    "digest_hex",
    "ensure_dir",
    "has_layer",
    "layer_path",
    "layer_size",
    "make_temp",
    "purge_detached",
    "remove_layer",
    "remove_tree",
    "scratch_name",
    "short",
    "tree_size",
]

_DIGEST = re.compile(r"sha256:([0-9a-f]{64})\Z")

# Opens a directory to change it (fchown, fchmod, xattrs, listing).
OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def short(digest: str) -> str:
    return digest[:19] if digest.startswith("sha256:") else digest


def digest_hex(diff_id: str) -> str:
    match = _DIGEST.match(diff_id) if isinstance(diff_id, str) else None
    if match is None:
        raise LayerError(f"invalid layer id {diff_id!r}: expected sha256: and 64 hex digits")
    return match.group(1)


def layer_path(layers_dir: Path, diff_id: str) -> Path:
    """The directory that holds the unpacked layer ``diff_id``."""
    return Path(layers_dir) / "sha256" / digest_hex(diff_id)


def has_layer(layers_dir: Path, diff_id: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(layer_path(layers_dir, diff_id)).st_mode)
    except FileNotFoundError:
        return False


def layer_size(layers_dir: Path, diff_id: str) -> int:
    """An unpacked layer's size as docker counts it: regular files' bytes (hard links
    once) and symlinks' target lengths."""
    path = layer_path(layers_dir, diff_id)
    try:
        root = os.open(path, OPEN_DIR)
    except FileNotFoundError:
        raise LayerError(f"layer {short(diff_id)} is not unpacked") from None
    except OSError as e:
        raise LayerError(f"cannot read layer {short(diff_id)}: {e.strerror}") from e
    try:
        return tree_size(root)
    except OSError as e:
        raise LayerError(f"cannot read layer {short(diff_id)}: {e.strerror}") from e
    finally:
        os.close(root)


def tree_size(root: int) -> int:
    total = 0
    seen: set[int] = set()
    # One frame per directory level: its fd and the subdirectories still to visit.
    frames: list[tuple[int, list[str]]] = []
    fd = os.dup(root)
    try:
        while True:
            subdirs: list[str] = []
            with os.scandir(fd) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(st.st_mode):
                        subdirs.append(entry.name)
                    elif st.st_ino not in seen:  # devices and pipes: size 0
                        seen.add(st.st_ino)
                        total += st.st_size
            frames.append((fd, subdirs))
            fd = -1
            while frames and fd < 0:
                parent, pending = frames[-1]
                if pending:
                    fd = os.open(pending.pop(), OPEN_DIR, dir_fd=parent)
                else:
                    os.close(parent)
                    frames.pop()
            if fd < 0:
                return total
    finally:
        for parent, _ in frames:
            os.close(parent)
        if fd >= 0:
            os.close(fd)


def remove_layer(layers_dir: Path, diff_id: str) -> None:
    """Delete an unpacked layer; nothing to do when it is not there."""
    name = detach_layer(layers_dir, diff_id)
    if name is not None:
        purge_detached(layers_dir, name)


def detach_layer(layers_dir: Path, diff_id: str) -> bytes | None:
    """Take an unpacked layer out of the store with one rename (into ``tmp/``).

    Returns its name there for ``purge_detached``, or None when it was not
    there. Quick whatever the layer's size: callers holding a lock purge after.
    """
    path = layer_path(layers_dir, diff_id)
    if not os.path.lexists(path):
        return None
    name = scratch_name()
    try:
        scratch = ensure_dir(Path(layers_dir) / "tmp")
        parent = os.open(path.parent, WALK)
        scratch_fd = os.open(scratch, WALK)
        try:
            os.rename(path.name, name, src_dir_fd=parent, dst_dir_fd=scratch_fd)
        finally:
            os.close(parent)
            os.close(scratch_fd)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise LayerError(f"cannot remove layer {short(diff_id)}: {e.strerror}") from e
    return name


def purge_detached(layers_dir: Path, name: bytes) -> None:
    """Delete what ``detach_layer`` moved aside."""
    try:
        scratch_fd = os.open(Path(layers_dir) / "tmp", WALK)
        try:
            remove_tree(scratch_fd, name, scratch_fd)
        finally:
            os.close(scratch_fd)
    except FileNotFoundError:
        return  # clean_temp of a helper starting meanwhile took it
    except OSError as e:
        raise LayerError(f"cannot remove a layer's files: {e.strerror}") from e


def clean_temp(layers_dir: Path) -> None:
    """Remove what interrupted unpacks left behind.

    Every user's helper shares the layer store: scratch names carry the pid of the
    helper that made them, and what a helper still running works on is left alone.
    """
    scratch = Path(layers_dir) / "tmp"
    if not os.path.lexists(scratch):
        return
    try:
        fd = os.open(scratch, OPEN_DIR)
        try:
            for name in os.listdir(fd):
                if not _in_use(name):
                    remove_tree(fd, os.fsencode(name), fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise LayerError(f"cannot clean {scratch}: {e.strerror}") from e


def ensure_dir(path: Path) -> Path:
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise LayerError(f"{path} is not a directory") from None
    return path


def make_temp(scratch: int, prefix: str) -> bytes:
    while True:
        name = f"{prefix}-{os.getpid()}-{os.urandom(6).hex()}".encode()
        try:
            os.mkdir(name, 0o700, dir_fd=scratch)
            return name
        except FileExistsError:
            continue


def remove_tree(parent: int, name: bytes, scratch: int) -> None:
    """``rm -rf parent/name`` that never follows a symlink and ignores depth.

    Each directory is moved into ``scratch`` (same filesystem) before it is
    emptied, its subdirectories moved out next to it, so only one directory is
    open at a time and no recursion is needed, however deep the tree.
    """
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=parent)
        return
    first = scratch_name()
    os.rename(name, first, src_dir_fd=parent, dst_dir_fd=scratch)
    pending = [first]
    while pending:
        current = pending.pop()
        fd = os.open(current, OPEN_DIR, dir_fd=scratch)
        try:
            with os.scandir(fd) as entries:
                listing = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
            for child, is_dir in listing:
                if is_dir:
                    moved = scratch_name()
                    os.rename(child, moved, src_dir_fd=fd, dst_dir_fd=scratch)
                    pending.append(moved)
                else:
                    os.unlink(child, dir_fd=fd)
        finally:
            os.close(fd)
        os.rmdir(current, dir_fd=scratch)


def scratch_name() -> bytes:
    return f".rm-{os.getpid()}-{os.urandom(8).hex()}".encode()


def _in_use(name: str) -> bool:
    """A scratch entry of another helper that is still running (``PREFIX-PID-RANDOM``)."""
    parts = name.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and is_alive(pid)
