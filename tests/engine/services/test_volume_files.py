"""A volume's files with no container mounting it: listed, read, copied in and out,
and what is copied in is what a container then sees in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, MountSpec
from engine.errors import NotFound, VolumeNotFound

pytestmark = pytest.mark.root


async def _output(engine: Engine, *cmd: str, mounts: list[MountSpec]) -> str:
    container = await engine.containers.create(ContainerConfig(
        image="busybox", image_id="", cmd=list(cmd), mounts=mounts))
    await engine.containers.start(container.id)
    assert await engine.containers.wait(container.id) == 0
    text = "".join([line.data.decode() + "\n"
                    async for line in engine.containers.logs(container.id)])
    await engine.containers.remove(container.id)
    return text


async def test_a_volume_no_container_mounts_is_browsed_and_copied_both_ways(
        engine: Engine, tmp_path: Path) -> None:
    volume = (await engine.volumes.create("vf-data")).name
    mounts = [MountSpec("volume", "/data", volume)]
    await _output(engine, "sh", "-c", "mkdir /data/sub && echo inside > /data/sub/a.txt",
                  mounts=mounts)
    assert not engine.volumes.users(volume)

    top = await engine.volumes.list_files(volume, "/")
    assert [(e.name, e.is_dir) for e in top] == [("sub", True)]
    assert [e.name for e in await engine.volumes.list_files(volume, "/sub")] == ["a.txt"]
    assert (await engine.volumes.stat_file(volume, "/sub/a.txt")).size == len("inside\n")
    assert await engine.volumes.read_file(volume, "/sub/a.txt") == b"inside\n"

    await engine.volumes.copy_from(volume, "/sub", tmp_path)
    assert (tmp_path / "sub" / "a.txt").read_text() == "inside\n"
    (tmp_path / "b.txt").write_text("from the host\n")
    await engine.volumes.copy_to(volume, tmp_path / "b.txt", "/sub/")
    assert await _output(engine, "cat", "/data/sub/b.txt", mounts=mounts) == "from the host\n"

    # the volume is its own root: nothing above it, even through its own symlinks
    await _output(engine, "sh", "-c", "ln -s /etc/shadow /data/shadow && "
                  "ln -s ../../../../../.. /data/up", mounts=mounts)
    assert {e.name for e in await engine.volumes.list_files(volume, "/..")} == {
        "sub", "shadow", "up"}
    assert {e.name for e in await engine.volumes.list_files(volume, "/up/")} == {
        "sub", "shadow", "up"}
    with pytest.raises(NotFound, match="in volume vf-data"):
        await engine.volumes.read_file(volume, "/shadow")
    with pytest.raises(NotFound, match="in volume vf-data"):
        await engine.volumes.read_file(volume, "/etc/passwd")
    with pytest.raises(VolumeNotFound):
        await engine.volumes.list_files("vf-nothing", "/")
    await engine.volumes.remove(volume)
