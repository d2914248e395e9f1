"""The part of ``engine.containers`` that reaches a container's files: browse,
read, ``docker cp`` in both directions, tar archives of a path, ``export`` of the
whole filesystem, the changes against its image, and its namespaces.

The work itself is engine/containers/files.py (host side, as the caller) and
the helper's file view (container side).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO

from engine.containers.bindsources import BindSources
from engine.containers.files import FileEntry, FileService, NamespaceInfo
from engine.containers.model import Change
from engine.containers.state import Status
from engine.containers.store import ContainerRecord
from engine.errors import InvalidArgument, InvalidState
from engine.services.containerbase import ContainerBase
from engine.wire.requests import ContainerChanges

__all__ = ["ContainerFiles"]


class ContainerFiles(ContainerBase):
    @property
    def _files(self) -> FileService:
        return FileService(self._s.call, self._look_sources)

    async def _look_sources(self, container_id: str) -> BindSources:
        return await self._bind_sources(self._find(container_id), start=False)

    def _files_lock(self, record: ContainerRecord) -> contextlib.AbstractAsyncContextManager[
            object]:
        """Writing into a stopped container mounts its upper dir: keep start() out meanwhile."""
        if self._state(record).status.is_active:
            return contextlib.nullcontext()
        return self._lock(record.id)

    async def list_files(self, ref: str, path: str = "/") -> list[FileEntry]:
        """A directory of the container's root filesystem, running or not, sorted by name."""
        record = self._find(ref)
        return await self._files.list_dir(record.id, record.name, path)

    async def stat_file(self, ref: str, path: str, follow_link: bool = False) -> FileEntry:
        record = self._find(ref)
        return await self._files.stat(record.id, record.name, path, follow_link)

    async def read_file(self, ref: str, path: str, limit: int = 1 << 20) -> bytes:
        """The first ``limit`` bytes of a regular file; InvalidArgument for anything else."""
        record = self._find(ref)
        return await self._files.read(record.id, record.name, path, limit)

    async def copy_from(self, ref: str, container_path: str, host_dest: Path | str, *,
                        follow_link: bool = False, archive: bool = False) -> None:
        """docker cp CONTAINER:SRC DEST, done with the caller's own rights on the host."""
        record = self._find(ref)
        await self._files.copy_from(record.id, record.name, container_path, host_dest,
                                    follow=follow_link, archive=archive)

    async def copy_to(self, ref: str, host_src: Path | str, container_path: str, *,
                      follow_link: bool = False, archive: bool = False) -> None:
        """docker cp SRC CONTAINER:DEST; owned by root in the container unless ``archive``."""
        record = self._find(ref)
        async with self._files_lock(record):
            await self._files.copy_to(record.id, record.name, host_src, container_path,
                                      follow=follow_link, archive=archive)

    async def get_archive(self, ref: str, container_path: str, out: IO[bytes], *,
                          follow_link: bool = False) -> None:
        """docker cp CONTAINER:SRC -: a tar of the path written to ``out``."""
        record = self._find(ref)
        await self._files.export_archive(record.id, record.name, container_path, out,
                                         follow=follow_link)

    async def put_archive(self, ref: str, source: IO[bytes], container_dir: str, *,
                          archive: bool = False) -> None:
        """docker cp - CONTAINER:DIR: unpack the tar read from ``source`` in a directory."""
        record = self._find(ref)
        target = await self._files.stat(record.id, record.name, container_dir, True)
        if not target.is_dir:
            raise InvalidArgument(f'destination "{record.name}:{container_dir}" must be a '
                                  "directory")
        async with self._files_lock(record):
            await self._files.import_archive(record.id, record.name, source, container_dir,
                                             archive=archive)

    async def export(self, ref: str, out: IO[bytes]) -> None:
        """docker export: the container's whole filesystem as a tar written to ``out``
        (its own files over its image's; not what is mounted into it)."""
        await self.get_archive(ref, "/", out)

    async def changes(self, ref: str) -> list[Change]:
        """docker diff: what the container added, changed and deleted against its image."""
        record = self._find(ref)
        rows = await self._s.call(ContainerChanges(id=record.id))
        return [Change(row.kind, row.path) for row in rows]

    async def namespaces(self, ref: str) -> list[NamespaceInfo]:
        """The running container's namespaces next to the host's (PID 1's)."""
        record = self._find(ref)
        status = self._state(record).status
        if status not in (Status.RUNNING, Status.PAUSED):
            raise InvalidState(f"Container {record.id} is not running")
        return await self._files.namespaces(record.id)
