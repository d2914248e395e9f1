"""What benchmarks/desktop.py sets up around its window children: the containers
listed, the flood followed, the big log opened, and the clean-up after them."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

__all__ = ["cleanup", "prepare", "start_flood", "stop_flood", "write_big_log"]

FLOOD_LINE = "flood line with some padding to look like a real log 0123456789 abcdefghij"


async def prepare(work: Path, count: int, running: int) -> None:
    from engine.containers.config import ContainerConfig
    from engine.engine import Engine
    from tests.fixtures.images import build_busybox_oci

    images = work / "images"
    images.mkdir()
    layout = build_busybox_oci(images)
    archive = images / "busybox.tar"
    subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", f"oci:{layout}:latest",
                    f"docker-archive:{archive}:busybox:latest"], check=True)
    async with Engine() as engine:
        image = (await engine.images.load(archive))[0]
        for i in range(count):
            cmd = ["sleep", "3600"] if i < running else ["true"]
            container = await engine.containers.create(
                ContainerConfig(image="busybox:latest", image_id=image.id, cmd=cmd),
                f"app-{i:03d}")
            if i < running:
                await engine.containers.start(container.id)


async def start_flood(rate: int) -> None:
    from engine.containers.config import ContainerConfig
    from engine.engine import Engine

    batch = max(1, rate // 10)
    script = (f"while :; do yes '{FLOOD_LINE}' | head -n {batch}; usleep 85000; done")
    async with Engine() as engine:
        image = await engine.images.get("busybox:latest")
        # The default cap rotates the log every 20 MB (~2 s of this flood), as users
        # have it; 20 files kept so that every line written in the window is counted.
        container = await engine.containers.create(
            ContainerConfig(image="busybox:latest", image_id=image.id,
                            cmd=["sh", "-c", script], log_options={"max-file": "20"}),
            "flood")
        await engine.containers.start(container.id)


async def stop_flood() -> None:
    from engine.engine import Engine

    async with Engine() as engine:
        await engine.containers.remove("flood", force=True)


async def cleanup(work: Path) -> None:
    from engine.engine import Engine

    async with Engine() as engine:
        for container in await engine.containers.list(all=True):
            await engine.containers.remove(container.id, force=True)
    with open("/proc/self/mounts") as f:
        targets = [line.split()[1] for line in f if line.split()[1].startswith(str(work))]
    for target in sorted(targets, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)
    parent = os.environ["SKIFF_CGROUP_PARENT"]
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        leftover = hierarchy / parent
        if leftover.is_dir():
            for sub in leftover.iterdir():
                if sub.is_dir():
                    sub.rmdir()
            leftover.rmdir()


def write_big_log(path: Path, lines: int) -> None:
    from engine.wire.logformat import format_time

    base = time.time_ns() - lines * 1000
    with open(path, "wb") as out:
        for start in range(0, lines, 100_000):
            stamp = format_time(base + start * 1000).encode()
            out.write(b"".join(
                b"%s %s F line %d of the big log, with some text after it\n"
                % (stamp, b"stderr" if i % 10 == 0 else b"stdout", i)
                for i in range(start, min(lines, start + 100_000))))
