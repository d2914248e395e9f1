"""The helper's container verbs, a module per job.

``ContainerService`` is what the server dispatches to; its verbs live in:

- ``base``: the user's container directories and their live status;
- ``lifecycle``: create, start, attach, signal, stop, pause, update, rename, remove;
- ``binds``: binds, volumes and their descriptors, the user namespace of a new one;
- ``execs``: exec;
- ``files``: file access (the helper's side of engine/helper/runtime/fsview/);
- ``inspect``: changes, namespaces, disk usage;
- ``repair``: what a crash left behind;
- ``networking``: the glue to engine/helper/network/;
- ``procs``: the processes they start and signal.
"""

from __future__ import annotations

from engine.helper.containers.execs import Exec
from engine.helper.containers.files import Files
from engine.helper.containers.inspect import Inspect
from engine.helper.containers.repair import Repair

__all__ = ["ContainerService"]


class ContainerService(Repair, Files, Exec, Inspect):
    """Every container verb of one user's helper (engine/helper/server.py)."""
