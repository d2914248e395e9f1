"""Capability sets applied: Docker's default set for containers, --cap-add/--cap-drop.

The names are the protocol's (engine/wire/capabilities.py); this module imports
no ctypes until a set is applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.wire.capabilities import DEFAULT_CAPABILITIES, NAMES

if TYPE_CHECKING:
    from engine.helper.runtime.kernel import Kernel

__all__ = ["DEFAULT_CAPABILITIES", "NAMES", "apply", "mask", "resolve"]

_PR_CAPBSET_READ = 23
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4


def resolve(default: Sequence[str], add: Sequence[str], drop: Sequence[str]) -> tuple[str, ...]:
    """Docker's rule (moby's oci/caps.TweakCapabilities): ``ALL`` added is every
    capability but those dropped; ``ALL`` dropped leaves only those added; else the
    default set without those dropped, plus those added."""
    if "ALL" in add:
        chosen = {c for c in NAMES if c not in drop}
    elif "ALL" in drop:
        chosen = set(add)
    else:
        chosen = {c for c in default if c not in drop} | set(add)
    return tuple(c for c in NAMES if c in chosen)


def mask(names: tuple[str, ...] | list[str]) -> int:
    value = 0
    for name in names:
        value |= 1 << NAMES.index(name)
    return value


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def apply(names: tuple[str, ...] | list[str], root_user: bool, kernel: Kernel | None = None
          ) -> None:
    """Bound the process to ``names``; a root user keeps them effective.

    Called in the container's init before it changes user: dropping from the
    bounding set needs CAP_SETPCAP, and a uid change clears the rest for
    non-root users as the kernel does for any setuid away from 0.
    """
    from engine.helper.runtime.kernel import LINUX

    kernel = kernel or LINUX
    keep = mask(names)
    for cap in range(_last_cap() + 1):
        if not keep & (1 << cap):
            try:
                kernel.prctl(_PR_CAPBSET_DROP, cap)
            except OSError:
                pass  # a capability this kernel does not know
    try:
        kernel.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass
    if root_user:
        kernel.capset(keep, keep, 0)
