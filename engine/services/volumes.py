"""``engine.volumes``: named and anonymous volumes (engine/volumes.py keeps their
records; the helper makes and removes their directories), and their files, which
the helper shows as a container's (engine/containers/files.py), mounted or not."""

from __future__ import annotations

import builtins
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from engine.containers.files import FileEntry, FileService
from engine.containers.store import ContainerRecord
from engine.errors import InUse, NotFound, SkiffError
from engine.names import check_volume_name
from engine.prune import EVERYTHING, Pruned, PruneFilter
from engine.services.shared import Shared
from engine.volumes import Volume
from engine.wire.logformat import format_time
from engine.wire.requests import DiskUsage, VolumeCreate, VolumeRemove

__all__ = ["VolumeService", "remove_pruned"]


class VolumeService:
    def __init__(self, shared: Shared) -> None:
        self._s = shared

    async def create(self, name: str = "", labels: dict[str, str] | None = None,
                     *, anonymous: bool = False) -> Volume:
        """An existing volume of that name is returned as it is, as in docker."""
        s = self._s
        # A volume made without a name is anonymous, as in docker: prune takes it.
        anonymous = anonymous or not name
        name = check_volume_name(name) if name else os.urandom(32).hex()
        if s.volume_store.exists(name):
            return s.volume_store.get(name)
        mountpoint = await s.call(VolumeCreate(name=name))
        volume = Volume(name, format_time(time.time_ns()), mountpoint,
                        dict(labels or {}), anonymous)
        s.volume_store.add(volume)
        s.emit("volume", "create", name, driver="local")
        return volume

    async def list(self) -> builtins.list[Volume]:
        return self._s.volume_store.all()

    async def get(self, name: str) -> Volume:
        """Raises VolumeNotFound."""
        return self._s.volume_store.get(name)

    async def inspect(self, name: str) -> Volume:
        """The volume, as ``get`` finds it; ``docker_json()`` is docker volume inspect's
        document."""
        return self._s.volume_store.get(name)

    async def remove(self, name: str, force: bool = False) -> None:
        s = self._s
        volume = s.volume_store.get(name)
        users = self.users(name)
        if users and not force:
            raise InUse(f"remove {name}: volume is in use - "
                        f"[{', '.join(r.id for r in users)}]")
        await s.call(VolumeRemove(name=volume.name))
        s.volume_store.remove(volume.name)
        s.emit("volume", "destroy", volume.name, driver="local")

    async def prune(self, anonymous_only: bool = False,
                    chosen: PruneFilter = EVERYTHING, *, dry_run: bool = False) -> Pruned:
        """Remove every volume no container uses (only anonymous ones, with
        ``anonymous_only``, as docker's system prune --volumes) that ``chosen`` allows.
        With ``dry_run`` nothing goes: the answer is what the prune would do now."""
        s = self._s
        used = {m.source for r in s.container_store.all() for m in r.config.mounts
                if m.type == "volume"}
        doomed = [v for v in s.volume_store.all()
                  if v.name not in used and (v.anonymous or not anonymous_only)
                  and chosen.allows(v.labels, v.created)]
        result = Pruned()
        if not doomed:
            return result
        sizes = (await s.call(DiskUsage(containers=[],
                                        volumes=[v.name for v in doomed]))).volumes
        if dry_run:
            return Pruned([v.name for v in doomed],
                          sum(int(sizes.get(v.name, 0)) for v in doomed))
        await remove_pruned(self, doomed, sizes, result)
        return result

    # -- files ----------------------------------------------------------------------
    def _files(self, name: str) -> FileService:
        self._s.volume_store.get(name)  # VolumeNotFound, as docker says it
        return FileService(self._s.call, volume=True)

    async def list_files(self, name: str, path: str = "/") -> builtins.list[FileEntry]:
        """A directory of the volume (its top is "/"), sorted by name."""
        return await self._files(name).list_dir(name, name, path)

    async def stat_file(self, name: str, path: str, follow_link: bool = False) -> FileEntry:
        return await self._files(name).stat(name, name, path, follow_link)

    async def read_file(self, name: str, path: str, limit: int = 1 << 20) -> bytes:
        """The first ``limit`` bytes of a regular file; InvalidArgument for anything else."""
        return await self._files(name).read(name, name, path, limit)

    async def copy_from(self, name: str, volume_path: str, host_dest: Path | str) -> None:
        """As ``docker cp`` out of a container, from the volume; with the caller's rights
        on the host."""
        await self._files(name).copy_from(name, name, volume_path, host_dest)

    async def copy_to(self, name: str, host_src: Path | str, volume_path: str) -> None:
        """As ``docker cp`` into a container, into the volume (owned by container root)."""
        await self._files(name).copy_to(name, name, host_src, volume_path)

    def users(self, name: str) -> builtins.list[ContainerRecord]:
        """The containers (any state) that mount the volume."""
        return [r for r in self._s.container_store.all()
                if any(m.type == "volume" and m.source == name for m in r.config.mounts)]


async def remove_pruned(volumes: VolumeService, doomed: Iterable[Volume],
                        sizes: Mapping[str, int], result: Pruned) -> None:
    """Remove ``doomed`` for a prune (this one's, the build cache's): each removed goes
    into ``result`` with its size, one gone meanwhile is passed over, another failure
    is kept in ``result.errors``."""
    for volume in doomed:
        try:
            await volumes.remove(volume.name)
        except NotFound:
            continue
        except SkiffError as exc:
            result.errors.append(exc)
            continue
        result.deleted.append(volume.name)
        result.reclaimed += int(sizes.get(volume.name, 0))
