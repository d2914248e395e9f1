"""Device access, cgroup v1 only: deny every device, then allow the given rules.

cgroup v2 has no devices files (only an eBPF program filters there); containers
on it are kept from devices by nodev mounts instead (engine/helper/runtime/devices.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from engine import errors
from engine.cgroups.plan import Write

__all__ = ["v1_writes"]

_RULE = re.compile(r"[abc] (\*|[0-9]{1,10}):(\*|[0-9]{1,10}) [rwm]{1,3}")


def v1_writes(rules: tuple[str, ...] | None) -> list[Write]:
    """``devices.deny`` everything, then ``devices.allow`` each rule ("c 1:3 rwm");
    None leaves the cgroup as it inherits it."""
    if rules is None:
        return []
    for rule in rules:
        if not _RULE.fullmatch(rule):
            raise errors.InvalidArgument(f"invalid device rule {rule!r}: use the form "
                                         "'c 1:3 rwm' (type a, b or c; * for any number)")
    return [Write(Path("devices.deny"), "a", "devices"),
            *(Write(Path("devices.allow"), rule, "devices") for rule in rules)]
