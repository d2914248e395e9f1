"""What the Files view shows the files of: a container, or a volume.

A container's files are its root as its processes see it; a volume's are the
volume itself, whether a container mounts it or not (the engine's
``volumes.list_files``...). The view asks through this, so one view does both.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.desktop.bridge import EngineLike
from engine import FileEntry

__all__ = ["FileSource"]


@dataclass(frozen=True)
class FileSource:
    key: str  # the container's ID, or the volume's name
    name: str  # how sentences and commands name it
    volume: bool = False

    def _owner(self, e: EngineLike) -> Any:
        return e.volumes if self.volume else e.containers

    async def list(self, e: EngineLike, path: str) -> list[FileEntry]:
        found: list[FileEntry] = await self._owner(e).list_files(self.key, path)
        return found

    async def stat(self, e: EngineLike, path: str) -> FileEntry:
        found: FileEntry = await self._owner(e).stat_file(self.key, path, True)
        return found

    async def read(self, e: EngineLike, path: str, limit: int) -> bytes:
        data: bytes = await self._owner(e).read_file(self.key, path, limit)
        return data

    async def copy_from(self, e: EngineLike, path: str, destination: Path) -> None:
        await self._owner(e).copy_from(self.key, path, destination)

    async def copy_to(self, e: EngineLike, source: Path, directory: str) -> None:
        await self._owner(e).copy_to(self.key, source, directory)

    def where(self, path: str) -> str:
        """The path in words: "/etc in web", "/data in the volume db"."""
        return f"{path} in the volume {self.name}" if self.volume else f"{path} in {self.name}"

    def cp_out(self, path: str, destination: Path) -> str:
        """The ``skiff cp`` doing the same ("" for a volume: cp copies containers' files)."""
        return "" if self.volume else shlex.join(["skiff", "cp", f"{self.name}:{path}",
                                                  str(destination)])

    def cp_in(self, source: Path, directory: str) -> str:
        return "" if self.volume else shlex.join(["skiff", "cp", str(source),
                                                  f"{self.name}:{directory}"])
