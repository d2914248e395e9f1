"""Busybox containers sleeping in a private world: the set-up that the memory and the
stats benchmarks share.

``busybox_world()`` gives a benchmark its own SKIFF_ROOT, cgroup parent and network
names (benchmarks/isolation.py) with the test suite's busybox image loaded, and the
docker archive of that image (podman loads it too); ``start_sleepers()`` starts
containers that sleep, ``remove_all()`` takes them away. Needs root and skopeo.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.isolation import private_world  # noqa: E402
from tests.fixtures.images import build_busybox_oci  # noqa: E402

if TYPE_CHECKING:
    from engine import Engine

__all__ = ["busybox_world", "remove_all", "start_sleepers"]


@contextlib.contextmanager
def busybox_world(name: str) -> Iterator[Path]:
    """A private world with busybox loaded; yields the image's docker archive."""
    work = Path(tempfile.mkdtemp(prefix=f"skiff-bench-{name}-"))
    try:
        with private_world(work):
            layout = build_busybox_oci(work)
            archive = work / "busybox.tar"
            subprocess.run(["skopeo", "copy", "-q", f"oci:{layout}:latest",
                            f"docker-archive:{archive}:busybox:latest"], check=True)

            async def load() -> None:
                from engine import Engine

                async with Engine() as engine:
                    await engine.images.load(archive)

            asyncio.run(load())
            yield archive
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def start_sleepers(engine: Engine, count: int) -> list[str]:
    """Create and start ``count`` containers sleeping an hour (no network); their ids."""
    from engine import ContainerConfig

    print(f"starting {count} containers...", file=sys.stderr)
    ids = []
    try:
        for _ in range(count):
            container = await engine.containers.create(ContainerConfig(
                image="busybox", image_id="", cmd=["sleep", "3600"], network="none"))
            ids.append(container.id)
            await engine.containers.start(container.id)
    except BaseException:
        await remove_all(engine, ids)
        raise
    return ids


async def remove_all(engine: Engine, ids: list[str]) -> None:
    for cid in ids:
        await engine.containers.remove(cid, force=True)
