"""Facts about the host that `info`, `version` and stats report (the CLI, the API
server and the engine's own stats read them from here)."""

from __future__ import annotations

import os

__all__ = ["host_memory", "os_name"]


def os_name() -> str:
    """The distribution's pretty name, as docker info's OperatingSystem."""
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def host_memory() -> int:
    """The host's physical memory in bytes (0 if the system will not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0
