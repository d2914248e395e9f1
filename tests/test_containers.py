"""Real containers from the busybox image, checked from inside and outside."""

from __future__ import annotations

from engine.containers.config import ContainerConfig
from engine.engine import Engine


async def output(engine: Engine, name: str) -> str:
    return "".join([line.data.decode() + ("" if line.partial else "\n")
                    async for line in engine.logs(name)])


async def run(engine: Engine, *cmd: str, **options: object) -> tuple[int, str]:
    config = ContainerConfig(image="busybox", image_id="", cmd=list(cmd), **options)  # type: ignore[arg-type]
    container = await engine.create(config)
    await engine.start(container.id)
    code = await engine.wait(container.id)
    return code, await output(engine, container.id)


async def test_echo(engine: Engine) -> None:
    code, out = await run(engine, "echo", "hello")
    assert (code, out) == (0, "hello\n")
