"""What a container changed in its filesystem: ``docker diff`` from its overlay upper dir.

The upper directory holds everything the container wrote; the lower directories
(the image's layers, top first) hold what it started with. Each upper entry is
"A" when the image did not have it and "C" when it did (a directory in the upper
exists there because something beneath it changed); a whiteout (0:0 character
device) is "D"; and under an opaque directory whatever the image had and the
upper does not is "D" too. The image's view is the overlay of the lowers, so
their own whiteouts and opaque directories count.

The upper is written by the container while we read it: it is walked with
directory file descriptors and never through a symlink.

What the runtime itself puts in the upper (the mount points /dev, /proc and
/sys, the generated /etc/hosts, /etc/hostname and /etc/resolv.conf, the mount
points of binds and volumes, and the directories made or copied up only to hold
them) is no change of the container's: docker keeps those in an "init" layer
under the container's own and lists nothing for a container that wrote nothing.
:func:`container_changes` leaves them out.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import LayerError

__all__ = ["RUNTIME_PATHS", "changes", "container_changes"]

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPAQUE_XATTR = "trusted.overlay.opaque"
#: What the runtime mounts or writes in every container (engine/helper/runtime/mounts.py,
#: engine/helper/network/etcfiles.py).
RUNTIME_PATHS = ("/dev", "/proc", "/sys", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")


@dataclass
class _Image:
    """One name in the image's view of a directory: a directory keeps its lowers."""

    is_dir: bool
    lowers: list[str] = field(default_factory=list)  # the lower dirs merged at this path


@dataclass
class _Frame:
    fd: int
    path: str  # "" for the root, else "/etc", "/etc/ssl"...
    pending: list[tuple[str, _Image | None, bool]]  # (name, image entry, merged)


def changes(upper: Path, lowers: Sequence[Path]) -> list[tuple[str, str]]:
    """``docker diff`` of an overlay: ("A"|"C"|"D", "/absolute/path"), sorted by path."""
    found: list[tuple[str, str]] = []
    try:
        root = os.open(upper, _OPEN_DIR)
    except OSError as e:
        raise LayerError(f"cannot read the container's changes in {upper}: {e.strerror}") from e
    frames = [_Frame(root, "", [])]
    try:
        image = _image_listing([str(p) for p in lowers])
        frames[0].pending = _visit(root, "", image, not _is_opaque(root), found)
        while frames:
            frame = frames[-1]
            if not frame.pending:
                os.close(frame.fd)
                frames.pop()
                continue
            name, entry, merged = frame.pending.pop()
            try:
                fd = os.open(name, _OPEN_DIR, dir_fd=frame.fd)
            except OSError as e:
                if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                    continue  # changed since it was listed: the container is running
                raise
            child = _Frame(fd, f"{frame.path}/{name}", [])
            frames.append(child)
            merged = merged and not _is_opaque(fd)
            child_image = _image_listing(entry.lowers) if entry is not None else {}
            child.pending = _visit(fd, child.path, child_image, merged, found)
    except OSError as e:
        raise LayerError(f"cannot read the container's changes in {upper}: {e.strerror}") from e
    finally:
        for frame in frames:
            os.close(frame.fd)
    found.sort(key=lambda change: (change[1], change[0]))
    return found


def container_changes(upper: Path, lowers: Sequence[Path], mount_points: Sequence[str] = ()
                      ) -> list[tuple[str, str]]:
    """``docker diff`` of a container: :func:`changes` less what the runtime made.

    ``mount_points`` are the targets of the container's binds and volumes. A
    directory that is in the upper only because the runtime made something in
    it is left out too: a new one that holds nothing else ("A /data" for a mount
    at /data/in), or an image directory copied up unchanged (same mode and
    owner) that holds nothing else ("C /etc" for /etc/hosts).
    """
    hidden = {*RUNTIME_PATHS, *(p.rstrip("/") or "/" for p in mount_points)}
    found = changes(upper, lowers)
    holds_hidden = {a for path in hidden for a in _ancestors(path)}
    holds_kept: set[str] = set()
    # Deepest first: a directory is judged once everything under it was.
    for kind, path in sorted(found, key=lambda change: change[1].count("/"), reverse=True):
        if path in hidden:
            continue
        if (kind != "D" and path in holds_hidden and path not in holds_kept
                and (kind == "A" or _same_as_image(upper, lowers, path))):
            hidden.add(path)
            continue
        holds_kept.update(_ancestors(path))
    return [change for change in found if change[1] not in hidden]


def _ancestors(path: str) -> list[str]:
    """"/a/b/c" → ["/a/b", "/a"]."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]


def _same_as_image(upper: Path, lowers: Sequence[Path], path: str) -> bool:
    """Whether the upper's directory has the image's mode and owner (a plain copy-up)."""
    relative = path.lstrip("/")
    try:
        mine = os.lstat(upper / relative)
    except OSError:
        return False
    for lower in lowers:
        try:
            theirs = os.lstat(lower / relative)
        except OSError:
            continue
        return (stat.S_ISDIR(mine.st_mode) and stat.S_ISDIR(theirs.st_mode)
                and (mine.st_mode, mine.st_uid, mine.st_gid)
                == (theirs.st_mode, theirs.st_uid, theirs.st_gid))
    return False


def _visit(
    fd: int,
    path: str,
    image: dict[str, _Image | None],
    merged: bool,
    found: list[tuple[str, str]],
) -> list[tuple[str, _Image | None, bool]]:
    """Record the changes among one upper directory's entries; return its subdirectories.

    ``merged`` says whether the overlay merges this directory with the image's;
    when it does not (opaque, or new), what the image had here and the upper
    lacks is gone.
    """
    subdirs: list[tuple[str, _Image | None, bool]] = []
    present: set[str] = set()
    with os.scandir(fd) as entries:
        listing = list(entries)
    for dirent in listing:
        name = dirent.name
        try:
            st = dirent.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        child = f"{path}/{name}"
        if _is_whiteout(st):
            found.append(("D", child))
            present.add(name)
            continue
        present.add(name)
        entry = image.get(name)
        found.append(("C" if entry is not None else "A", child))
        if stat.S_ISDIR(st.st_mode):
            image_dir = entry if entry is not None and entry.is_dir else None
            subdirs.append((name, image_dir, merged and image_dir is not None))
    if not merged:
        for name, entry in image.items():
            if entry is not None and name not in present:
                found.append(("D", f"{path}/{name}"))
    subdirs.reverse()  # popped from the end: visit in listing order
    return subdirs


def _image_listing(lowers: list[str]) -> dict[str, _Image | None]:
    """The image's view of one directory, from the lowers merged there (top first).

    A name maps to None when a whiteout hides it. A directory lists the lowers
    that contribute to it: down to the first where it is opaque, and not past a
    lower where the name is a whiteout or not a directory.
    """
    view: dict[str, _Image | None] = {}
    closed: set[str] = set()  # directories no lower further down adds to
    for lower in lowers:
        try:
            with os.scandir(lower) as entries:
                listing = list(entries)
        except FileNotFoundError:
            continue
        for dirent in listing:
            name = dirent.name
            st = dirent.stat(follow_symlinks=False)
            if name not in view:
                if _is_whiteout(st):
                    view[name] = None
                elif stat.S_ISDIR(st.st_mode):
                    view[name] = _Image(True, [dirent.path])
                    if _is_opaque_path(dirent.path):
                        closed.add(name)
                else:
                    view[name] = _Image(False)
                continue
            entry = view[name]
            if entry is None or not entry.is_dir or name in closed:
                continue
            if stat.S_ISDIR(st.st_mode):
                entry.lowers.append(dirent.path)
                if _is_opaque_path(dirent.path):
                    closed.add(name)
            else:
                closed.add(name)  # a file or whiteout under a directory is hidden, and ends it
    return view


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(fd: int) -> bool:
    try:
        return os.getxattr(fd, _OPAQUE_XATTR) == b"y"
    except OSError:
        return False


def _is_opaque_path(path: str) -> bool:
    try:
        return os.getxattr(path, _OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False
