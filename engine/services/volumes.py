"""``engine.volumes``: named and anonymous volumes (engine/volumes.py keeps their
records; the helper makes and removes their directories)."""

from __future__ import annotations

import builtins
import secrets
import time
from typing import Any

from engine.containers.store import ContainerRecord
from engine.errors import InUse, NotFound, SkiffError
from engine.names import check_volume_name
from engine.prune import EVERYTHING, Pruned, PruneFilter
from engine.services.shared import Shared
from engine.volumes import Volume
from engine.wire.logformat import format_time
from engine.wire.requests import DiskUsage, VolumeCreate, VolumeRemove

__all__ = ["VolumeService"]


class VolumeService:
    def __init__(self, shared: Shared) -> None:
        self._s = shared

    async def create(self, name: str = "", labels: dict[str, str] | None = None,
                     *, anonymous: bool = False) -> Volume:
        """An existing volume of that name is returned as it is, as in docker."""
        s = self._s
        # A volume made without a name is anonymous, as in docker: prune takes it.
        anonymous = anonymous or not name
        name = check_volume_name(name) if name else secrets.token_hex(32)
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

    async def inspect(self, name: str) -> dict[str, Any]:
        """docker volume inspect's JSON."""
        return self._s.volume_store.get(name).inspect()

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
        for volume in doomed:
            try:
                await self.remove(volume.name)
            except NotFound:
                continue
            except SkiffError as exc:
                result.errors.append(exc)
                continue
            result.deleted.append(volume.name)
            result.reclaimed += int(sizes.get(volume.name, 0))
        return result

    def users(self, name: str) -> builtins.list[ContainerRecord]:
        """The containers (any state) that mount the volume."""
        return [r for r in self._s.container_store.all()
                if any(m.type == "volume" and m.source == name for m in r.config.mounts)]
