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


def set_title(title: str) -> None:
    """Best effort: a process that cannot rename itself keeps its old name."""
    name = ctypes.create_string_buffer(title.split(" ", 1)[0].encode()[:15])
    syscalls.prctl(_PR_SET_NAME, ctypes.addressof(name))
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
    except (OSError, IndexError, ValueError):
        return
    if end - start < 2:
        return
    data = title.encode()[: end - start - 1]
    ctypes.memmove(start, data + b"\0" * (end - start - len(data)), end - start)
