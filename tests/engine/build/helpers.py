"""Shared by the build tests: build a context directory, read a built image's files."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

from engine.build.builder import BuildOptions, BuildResult
from engine.build.context import open_context
from engine.build.events import BuildEvent, render
from engine.build.fsindex import FileIndex

__all__ = ["build", "files_of", "write_context"]


def write_context(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
    return root


async def build(engine: Any, root: Path, **options: Any
                ) -> tuple[BuildResult, list[BuildEvent], str]:
    events: list[BuildEvent] = []
    context = open_context(root)
    try:
        result = await engine.images.build(context, BuildOptions(**options), events.append)
    finally:
        context.close()
    return result, events, "".join(render(e) for e in events)


def files_of(engine: Any, image_id: str) -> FileIndex:
    image = engine._shared.image_store.get(image_id)
    return FileIndex(engine._shared.blobs, image.layers)


def member_types() -> dict[bytes, str]:
    return {tarfile.REGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink"}
