"""Where Skiff keeps its data.

Two roots, never mixed: the engine's (metadata and downloaded blobs, writable by
the calling user) and the helper's (unpacked layers, container filesystems and
logs, owned by root). ``SKIFF_ROOT`` moves both under one directory, which is
how tests give every run its own world.

Paths are strings here, as os and sqlite3 take them: ``engine.Reader`` (``skiff
ps``, ``logs``) joins them without pathlib, whose import (with urllib.parse,
ipaddress and ntpath) was ~4 ms of a first ``skiff ps``; the engine's services
make Paths of them.
"""

from __future__ import annotations

import os

from engine import installation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["cgroup_parent", "changes_file", "engine_root", "helper_root", "user_config_dir"]

SYSTEM_ROOT = "/var/lib/skiff"


def _override() -> str | None:
    value = os.environ.get("SKIFF_ROOT")
    return os.path.realpath(value) if value else None


def engine_root() -> str:
    """The calling user's metadata root: SQLite, blobs, settings state."""
    override = _override()
    if override is not None:
        return f"{override}/engine"
    if os.geteuid() == 0:
        return f"{SYSTEM_ROOT}/engine"
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data_home, "skiff")


def helper_root() -> str:
    """The privileged helper's root: layers, container filesystems, logs.

    Only root moves it with SKIFF_ROOT: a helper started through pkexec for a
    user ignores the user's choice and uses its installation's root, so the
    engine must look there (the helper's hello names it too).
    """
    override = _override()
    if override is not None and os.geteuid() == 0:
        return f"{override}/helper"
    found = installation.find()
    return found.helper_root if found is not None else f"{SYSTEM_ROOT}/helper"


def cgroup_parent() -> str:
    """The cgroup (one path component) that holds every container's cgroup."""
    value = os.environ.get("SKIFF_CGROUP_PARENT")
    if value:
        return value
    found = installation.find()
    return found.cgroup_parent if found is not None else "skiff"


def user_config_dir() -> str:
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return os.path.join(config_home, "skiff")


def changes_file(containers_dir: Path) -> Path:
    """The one file per user that engines following events watch (they may not list
    the containers' directories): touched by the helper and the monitors after every
    change of status or pause. A rule of the layout both sides share, so it lives here
    rather than in the helper."""
    return containers_dir.parent / "changes"
