"""Binds, volumes and the user namespace of a container: what it mounts, and as whom.

A bind's source is never resolved here: the engine opens it as the user at
every start and hands the descriptor over (engine/helper/sources.py). Volumes
are the helper's own directories (engine/helper/volumedirs.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.errors import InvalidArgument
from engine.helper.containers.base import ContainerBase
from engine.helper.runtime.spec import Bind, RuntimeSpec, Userns
from engine.wire.containerspec import MountSpec

__all__ = ["Binds", "close_ours", "container_root"]


class Binds(ContainerBase):
    """Volumes, binds and their descriptors; the user namespace of a new container."""

    def _userns(self, requested: str) -> Userns | None:
        """The user namespace of a new container: always for a user, on request for root."""
        from engine.helper.runtime import idmap, shifted

        if idmap.choose_mode(self.uid, requested) == "host":
            return None
        ids = idmap.user_map(self.uid)
        return Userns(ids.uids.to_json(), ids.gids.to_json(),
                      shifted.layers_mode(self.userns_layers, os.uname().release),
                      str(shifted.copies_dir(self.root, ids)))

    def _prepare_layers(self, spec: RuntimeSpec, remap: Userns) -> None:
        """Without idmapped layers: the user's shifted copies, made now rather than at start."""
        if remap.layers != "copy":
            return
        from engine.helper.runtime import shifted, userns

        for diff_id in spec.layers:
            shifted.ensure(self.layers_dir / "sha256" / diff_id.removeprefix("sha256:"),
                           Path(remap.shifted_dir), userns.mapping(remap))

    def volume_create(self, name: str, owner: tuple[int, int] | None = None
                      ) -> dict[str, Any]:
        """The volume (volumedirs.py): its user alone (and root) reach it. New data
        belongs to container root (``owner``, or for a user's volume the user), so the
        container can use it."""
        self._private_dirs("volumes")
        data = self.volumes.data(name)
        fresh = not data.is_dir() and not self.volumes.mountpoint(name).is_dir()
        mountpoint = self.volumes.create(name)
        if owner is None and self.uid != 0:
            owner = user_ids(self.uid)
        if owner is not None and (fresh or untouched(data)):
            os.chown(data, *owner)
        return {"mountpoint": str(mountpoint)}

    def volume_remove(self, name: str) -> dict[str, Any]:
        self.volumes.remove(name)
        return {}

    def _check_bind(self, bind: MountSpec, owner: tuple[int, int] | None = None) -> Bind:
        """A bind's source is kept as the user wrote it, never resolved here: the engine
        opens it as the user at every start (engine/helper/sources.py). A new volume
        belongs to ``owner``, the container's root."""
        if bind.kind == "tmpfs":
            options = [f"size={bind.tmpfs_size}"] if bind.tmpfs_size else []
            if bind.tmpfs_mode is not None:
                options.append(f"mode={bind.tmpfs_mode:o}")
            return Bind("tmpfs", "", bind.target, bind.read_only, tmpfs=",".join(options),
                        tmpfs_exec=bool(bind.tmpfs_exec))
        if bind.kind == "volume":
            if not bind.source or bind.source.startswith("/"):
                raise InvalidArgument(f"invalid volume name {bind.source!r}")
            self.volume_create(bind.source, owner)
            return Bind("volume", bind.source, bind.target, bind.read_only)
        if not bind.source.startswith("/"):
            raise InvalidArgument(f"bind source {bind.source!r} must be an absolute path")
        return Bind("bind", bind.source, bind.target, bind.read_only)

    def _sources(self, spec: RuntimeSpec, fds: list[int], sources: list[int] | None, *,
                 complete: bool) -> list[int]:
        """Descriptors for the spec's binds and volumes, in order (-1: a bind the caller
        left out): the caller's for binds, checked; ours for volumes. The caller's stay
        the caller's to close; ours are new."""
        from engine.helper.sources import check_access, match_sources

        matched = match_sources(spec.binds, fds, sources, complete=complete)
        check_access(spec.binds, matched, self.uid)
        result: list[int] = []
        owner = None if spec.userns is None else container_root(spec.userns)
        try:
            for index, bind in enumerate(spec.binds):
                if bind.type == "volume":
                    self.volume_create(bind.source, owner)
                    result.append(os.open(self.volume_dir(bind.source), os.O_RDONLY
                                          | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC))
                elif bind.type in ("bind", "device"):
                    result.append(matched.get(index, -1))
        except BaseException:
            close_ours(spec, result)
            raise
        return result


def close_ours(spec: RuntimeSpec, sources: list[int]) -> None:
    """Close the volume directories we opened; binds' descriptors are the caller's."""
    for bind, fd in zip((b for b in spec.binds if b.type != "tmpfs"), sources, strict=False):
        if bind.type == "volume" and fd >= 0:
            os.close(fd)


def container_root(remap: Userns) -> tuple[int, int]:
    from engine.helper.runtime import userns

    return userns.mapping(remap).root()


def user_ids(uid: int) -> tuple[int, int]:
    """The user's uid and primary gid (their own uid as gid when unknown)."""
    import pwd

    try:
        return uid, pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid, uid


def untouched(path: Path) -> bool:
    """An empty directory still owned by root: made before it had an owner."""
    st = path.stat()
    return st.st_uid == 0 and st.st_gid == 0 and not any(path.iterdir())
