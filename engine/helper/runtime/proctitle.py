"""A monitor's name in ``ps``: ``skiff-monitor <short id>``, not the helper's command line.

Monitors are forked from the helper's zygote and so show its command line, which
invites a `kill` meant for the helper. The name (``comm``) is set with
PR_SET_NAME; the command line by writing over our own argument area, whose
bounds /proc/self/stat gives (what setproctitle does; CAP_SYS_RESOURCE, which
PR_SET_MM would need, is not ours to count on).
"""

from __future__ import annotations

import ctypes

from engine.helper import syscalls

__all__ = ["set_title"]

_PR_SET_NAME = 15


# Where the argument area lies: the same in every process forked from the one that
# first looked (the zygote), which so spares each monitor reading it (~0.1 MB of its USS).
_area: tuple[int, int] | None = None


def set_title(title: str) -> None:
    """Best effort: a process that cannot rename itself keeps its old name."""
    global _area
    # Always 16 bytes (the kernel's limit): one ctypes array type, made once in the
    # zygote; a size per name made each monitor build its own (~55 KB of its USS).
    name = ctypes.create_string_buffer(title.split(" ", 1)[0].encode()[:15], 16)
    syscalls.prctl(_PR_SET_NAME, ctypes.addressof(name))
    if _area is None:
        try:
            with open("/proc/self/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            _area = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
        except (OSError, IndexError, ValueError):
            return
    start, end = _area
    if end - start < 2:
        return
    data = title.encode()[: end - start - 1]
    ctypes.memmove(start, data + b"\0" * (end - start - len(data)), end - start)
