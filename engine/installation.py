"""Where Skiff was installed for real (``make install``, the .deb), and with what settings.

An installation is a root-owned virtual environment in ``PREFIX/lib/skiff``
holding Skiff and its dependencies, the helper wrapper that pkexec runs in
``PREFIX/libexec/skiff/skiff-helper``, and ``installation.json`` beside the
environment: the helper's storage root, cgroup parent, bridge prefix and nft
table, baked in when it was installed (tests install a copy with a world of its
own). The helper trusts that file only in its own environment, which it checks
is root-owned (engine/helper/trust.py); the engine reads it to find the helper
and to look where that helper writes.
"""

from __future__ import annotations

import json
import os
import sys

from engine.frozen import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

__all__ = ["CONFIG_NAME", "SYSTEM_PREFIXES", "Installation", "find", "own"]

CONFIG_NAME = "installation.json"
#: Where an engine that is not itself installed (a developer's .venv) looks for one.
SYSTEM_PREFIXES = ("/usr", "/usr/local")


@record
class Installation:
    """One installation's settings (its installation.json). Every command reads it:
    a record (engine/frozen.py) imports neither dataclasses nor typing. Its paths are
    strings, as engine/paths.py's are."""

    prefix: str
    helper: str  # the wrapper pkexec runs
    helper_root: str
    cgroup_parent: str
    net_prefix: str
    net_table: str
    polkit_action: str

    @classmethod
    def load(cls, config: str | PathLike[str]) -> Installation | None:
        """The installation ``config`` describes; None when it is missing or unreadable."""
        try:
            with open(config) as f:
                data = json.load(f)
            return cls(prefix=str(data["prefix"]), helper=str(data["helper"]),
                       helper_root=str(data["helper_root"]),
                       cgroup_parent=str(data["cgroup_parent"]),
                       net_prefix=str(data["net_prefix"]), net_table=str(data["net_table"]),
                       polkit_action=str(data["polkit_action"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def network_environment(self) -> dict[str, str]:
        """The helper's network names, as its network code reads them."""
        return {"SKIFF_NET_PREFIX": self.net_prefix, "SKIFF_NET_TABLE": self.net_table}


def own() -> Installation | None:
    """The installation this very interpreter belongs to (its venv has the config)."""
    return Installation.load(os.path.join(sys.prefix, CONFIG_NAME))


def find() -> Installation | None:
    """Our own installation, else one in a system prefix whose helper is there."""
    found = own()
    if found is not None:
        return found
    for prefix in SYSTEM_PREFIXES:
        found = Installation.load(os.path.join(prefix, "lib", "skiff", CONFIG_NAME))
        if found is not None and os.access(found.helper, os.X_OK):
            return found
    return None
