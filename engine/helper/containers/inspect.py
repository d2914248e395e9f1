"""What a container holds and is: its changes to the image (as a list or a layer),
its namespaces, the disk its files and volumes take.
"""

from __future__ import annotations

from typing import Any

from engine.errors import InvalidArgument, InvalidState
from engine.helper.containers.base import ACTIVE, ContainerBase
from engine.helper.containers.procs import is_in_container, namespace_inode

__all__ = ["Inspect"]


class Inspect(ContainerBase):
    """docker diff, a container as a layer (build, commit), the namespaces of inspect,
    docker system df."""

    def disk_usage(self, containers: list[str], volumes: list[str]) -> dict[str, Any]:
        """Bytes written by each container and held by each volume (engine/helper/usage.py)."""
        from engine.helper.usage import tree_size

        return {"containers": {cid: tree_size(self._dir(cid).upper) for cid in containers},
                "volumes": {name: tree_size(self.volume_dir(name)) for name in volumes}}

    def changes(self, container_id: str) -> list[list[str]]:
        from engine.helper.changes import container_changes

        cdir = self._existing(container_id)
        spec = cdir.read_spec()
        lowers = [self.layers_dir / "sha256" / d.removeprefix("sha256:")
                  for d in reversed(spec.layers)]
        mount_points = [bind.target for bind in spec.binds]
        return [[kind, path] for kind, path in container_changes(cdir.upper, lowers,
                                                                 mount_points)]

    def layer(self, container_id: str, fds: list[int]) -> dict[str, Any]:
        """The container's changes as a layer tar, written to the caller's file
        (engine/helper/upperlayer.py): for build and commit, of a container not running."""
        from engine.helper.upperlayer import IdShift, write_upper_layer

        if len(fds) != 1:
            raise InvalidArgument("container_layer needs exactly one file descriptor")
        cdir = self._existing(container_id)
        if self._live_status(cdir).get("status") in ACTIVE and not cdir.paused.exists():
            raise InvalidState(f"container {container_id[:12]} is running: stop or pause it "
                               "before making a layer of it")
        spec = cdir.read_spec()
        lowers = [self.layers_dir / "sha256" / d.removeprefix("sha256:")
                  for d in reversed(spec.layers)]
        userns = spec.userns
        count = write_upper_layer(
            cdir.upper, lowers, [bind.target for bind in spec.binds], fds[0],
            IdShift(userns.uid_map if userns else None),
            IdShift(userns.gid_map if userns else None), self.max_layer_bytes)
        return {"entries": count}

    def namespaces(self, id: str) -> list[list[Any]]:
        """[kind, container inode, host inode] of the running container's init's namespaces."""
        cdir = self._existing(id)
        status = self._live_status(cdir)
        pid = int(status.get("pid", 0))
        if status.get("status") not in ACTIVE or pid <= 0 or not is_in_container(pid, id):
            raise InvalidState(f"Container {id} is not running")
        rows: list[list[Any]] = []
        for kind in ("pid", "mnt", "uts", "ipc", "net", "user", "cgroup", "time"):
            try:
                mine = namespace_inode(f"/proc/{pid}/ns/{kind}")
                try:
                    host = namespace_inode(f"/proc/1/ns/{kind}")
                except PermissionError:  # an init with more capabilities than ours
                    host = namespace_inode(f"/proc/self/ns/{kind}")
            except FileNotFoundError:
                continue  # a kind this kernel does not have
            rows.append([kind, mine, host])
        if int(self._live_status(cdir).get("pid", 0)) != pid:
            raise InvalidState(f"Container {id} is not running")
        return rows
