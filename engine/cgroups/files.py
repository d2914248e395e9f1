"""Reading cgroupfs files, and parsing their formats (the helper writes them:
engine/helper/cgroups/apply.py).

Stats are read for every running container once a second, so a read is one
``open``/``read``/``close`` with no text-layer overhead. A file that is not
there (a controller that is not enabled, a cgroup that was just removed)
reads as ``None``; callers turn that into 0 or "no limit".
"""

from __future__ import annotations

import errno
import os

__all__ = ["parse_flat_keyed", "parse_max", "procs_of", "read", "read_int", "read_keyed"]

# A cgroup that vanishes under us shows up as one of these, not as a failure.
_GONE = frozenset({errno.ENOENT, errno.ENODEV, errno.ENOTDIR})


def read(path: str | os.PathLike[str]) -> str | None:
    """The whole file as text, or None if it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in _GONE:
            return None
        raise
    try:
        chunks = []
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError as exc:
                if exc.errno in _GONE:
                    return None
                raise
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("ascii", "replace")


def read_int(path: str | os.PathLike[str]) -> int | None:
    """A single-number file, or None if missing or not a number."""
    text = read(path)
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def read_keyed(path: str | os.PathLike[str]) -> dict[str, int]:
    """A flat-keyed file (``key value`` lines); empty if missing."""
    text = read(path)
    return parse_flat_keyed(text) if text else {}


def procs_of(directory: str | os.PathLike[str]) -> set[int]:
    """PIDs in ``directory``'s cgroup.procs; empty when it is gone."""
    return {int(p) for p in (read(os.path.join(directory, "cgroup.procs")) or "").split()}


def parse_flat_keyed(text: str) -> dict[str, int]:
    """``memory.stat``, ``cpu.stat``, ``cgroup.events``, ``memory.oom_control``..."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        try:
            values[key] = int(value)
        except ValueError:
            continue
    return values


def parse_max(text: str | None) -> int | None:
    """A v2-style limit: a number, or ``max`` (and a missing file) for none."""
    if text is None:
        return None
    text = text.strip()
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None
