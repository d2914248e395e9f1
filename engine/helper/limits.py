"""``docker update``: a container's limits and restart policy, changed after its creation.

The new values go into the container's spec (its next start, and its monitor's
next restart, use them) and, while it runs, into its cgroup at once. The engine
checks the values first (engine/containers/checks.py); the cgroup drivers check
them again before they write.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.errors import SkiffError
from engine.helper.cgroups import Limits, open_cgroup
from engine.helper.runtime.spec import ContainerDir

__all__ = ["update_limits"]


def update_limits(cdir: ContainerDir, *, memory: int | None, nano_cpus: int | None,
                  pids_limit: int | None, restart_policy: str, restart_max: int,
                  cpu_shares: int | None = None) -> dict[str, Any]:
    """Set exactly these values (None: no limit; CPU shares None: as they are); returns
    whether a live cgroup changed."""
    old = cdir.read_spec()
    spec = replace(old, memory=memory, nano_cpus=nano_cpus,
                   pids_limit=pids_limit, restart_policy=restart_policy,
                   restart_max=restart_max,
                   cpu_shares=old.cpu_shares if cpu_shares is None else cpu_shares)
    # The spec first: a restart from now on starts with the new limits.
    cdir.write_json(cdir.spec, spec.to_json())
    cgroup = open_cgroup(spec.id, spec.cgroup_parent)
    if not cgroup.exists():
        return {"live": False}
    try:
        cgroup.update(Limits(memory=memory, nano_cpus=nano_cpus, pids=pids_limit,
                             cpu_shares=cpu_shares))
    except SkiffError:
        if cgroup.exists():
            raise
        return {"live": False}  # it stopped meanwhile; its next start reads the spec
    return {"live": True}
