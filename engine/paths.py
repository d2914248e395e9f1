"""Where Skiff keeps its data.

Two roots, never mixed: the engine's (metadata and downloaded blobs, writable by
the calling user) and the helper's (unpacked layers, container filesystems and
logs, owned by root). ``SKIFF_ROOT`` moves both under one directory, which is
how tests give every run its own world.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine import installation

__all__ = ["cgroup_parent", "changes_file", "engine_root", "helper_root", "user_config_dir"]

SYSTEM_ROOT = Path("/var/lib/skiff")


def _override() -> Path | None:
    value = os.environ.get("SKIFF_ROOT")
    return Path(value).resolve() if value else None


def engine_root() -> Path:
    """The calling user's metadata root: SQLite, blobs, settings state."""
    override = _override()
    if override is not None:
        return override / "engine"
    if os.geteuid() == 0:
        return SYSTEM_ROOT / "engine"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "skiff"


def helper_root() -> Path:
    """The privileged helper's root: layers, container filesystems, logs.

    Only root moves it with SKIFF_ROOT: a helper started through pkexec for a
    user ignores the user's choice and uses its installation's root, so the
    engine must look there (the helper's hello names it too).
    """
    override = _override()
    if override is not None and os.geteuid() == 0:
        return override / "helper"
    found = installation.find()
    return found.helper_root if found is not None else SYSTEM_ROOT / "helper"


def cgroup_parent() -> str:
    """The cgroup (one path component) that holds every container's cgroup."""
    value = os.environ.get("SKIFF_CGROUP_PARENT")
    if value:
        return value
    found = installation.find()
    return found.cgroup_parent if found is not None else "skiff"


def user_config_dir() -> Path:
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "skiff"


def changes_file(containers_dir: Path) -> Path:
    """The one file per user that engines following events watch (they may not list
    the containers' directories): touched by the helper and the monitors after every
    change of status or pause. A rule of the layout both sides share, so it lives here
    rather than in the helper."""
    return containers_dir.parent / "changes"
