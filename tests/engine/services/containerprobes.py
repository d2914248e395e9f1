"""What the container service's tests share: run a container from the busybox test image
and read what it printed, and wait on a condition."""

from __future__ import annotations

import asyncio

from engine import Engine
from engine.containers.config import ContainerConfig

__all__ = ["config", "eventually", "output", "run", "started"]


async def output(engine: Engine, ref: str, stream: str | None = None) -> str:
    return "".join([line.data.decode() + ("" if line.partial else "\n")
                    async for line in engine.containers.logs(ref)
                    if stream is None or line.stream == stream])


def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd) or None,
                           **options)  # type: ignore[arg-type]


async def run(engine: Engine, *cmd: str, name: str = "", **options: object) -> tuple[int, str]:
    container = await engine.containers.create(config(*cmd, **options), name=name)
    await engine.containers.start(container.id)
    code = await engine.containers.wait(container.id)
    return code, await output(engine, container.id)


async def started(engine: Engine, *cmd: str, **options: object) -> str:
    container = await engine.containers.create(config(*cmd, **options))
    await engine.containers.start(container.id)
    return container.id


async def eventually(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.05)
