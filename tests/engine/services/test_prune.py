"""A prune's dry run answers what the prune then does, and removes nothing itself.

The window's prune previews are these dry runs, so each kind is checked the
same way: the dry run, nothing gone, then the prune taking exactly that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, MountSpec

pytestmark = pytest.mark.root


def _config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd),
                           **options)  # type: ignore[arg-type]


async def test_container_and_volume_prunes_take_what_their_dry_runs_said(
        engine: Engine) -> None:
    await engine.volumes.create("dry-kept")
    await engine.volumes.create("dry-spare")
    writer = await engine.containers.create(_config(
        "sh", "-c", "dd if=/dev/zero of=/data/f bs=1024 count=32; "
        "dd if=/dev/zero of=/big bs=1024 count=16",
        mounts=[MountSpec("volume", "/data", "dry-spare")]), name="dry-writer")
    await engine.containers.start(writer.id)
    assert await engine.containers.wait(writer.id) == 0
    runner = await engine.containers.create(_config(
        "sleep", "300", mounts=[MountSpec("volume", "/k", "dry-kept")]), name="dry-runner")
    await engine.containers.start(runner.id)

    would = await engine.containers.prune(dry_run=True)
    assert writer.id in would.deleted and runner.id not in would.deleted
    assert would.reclaimed >= 16 * 1024
    assert writer.id in {c.id for c in await engine.containers.list(all=True)}
    pruned = await engine.containers.prune()
    assert (set(pruned.deleted), pruned.reclaimed) == (set(would.deleted), would.reclaimed)

    # the writer is gone: its volume is unused now, with the 32 kB written into it
    would = await engine.volumes.prune(dry_run=True)
    assert "dry-spare" in would.deleted and "dry-kept" not in would.deleted
    assert would.reclaimed >= 32 * 1024
    assert "dry-spare" in {v.name for v in await engine.volumes.list()}
    pruned = await engine.volumes.prune()
    assert (set(pruned.deleted), pruned.reclaimed) == (set(would.deleted), would.reclaimed)
    await engine.containers.remove(runner.id, force=True)
    await engine.volumes.remove("dry-kept")


async def test_network_prune_takes_what_its_dry_run_said(engine: Engine) -> None:
    await engine.networks.create("dry-net-spare")
    await engine.networks.create("dry-net-used")
    user = await engine.containers.create(_config("true", network="dry-net-used"),
                                          name="dry-net-user")
    would = await engine.networks.prune(dry_run=True)
    assert "dry-net-spare" in would.deleted and "dry-net-used" not in would.deleted
    assert "dry-net-spare" in {n.name for n in await engine.networks.list()}
    pruned = await engine.networks.prune()
    assert set(pruned.deleted) == set(would.deleted)
    await engine.containers.remove(user.id)
    await engine.networks.remove("dry-net-used")


async def test_image_prune_takes_what_its_dry_run_said(
        engine: Engine, busybox_multilayer_docker_archive: Path) -> None:
    multi = (await engine.images.load(busybox_multilayer_docker_archive))[0]
    user = await engine.containers.create(_config("true"), name="dry-img-user")
    tags = list(multi.repo_tags)
    for tag in tags:  # moved to busybox: the multi-layer image is left dangling
        await engine.images.tag("busybox:latest", tag)
    would = await engine.images.prune(dry_run=True)
    assert f"deleted: {multi.id}" in would.deleted
    assert would.reclaimed > 0  # its own layers; the base stays, busybox uses it
    assert multi.id in {i.id for i in await engine.images.list(all=True)}
    pruned = await engine.images.prune()
    assert (pruned.deleted, pruned.reclaimed) == (would.deleted, would.reclaimed)
    assert (await engine.images.prune(dry_run=True)).deleted == []
    await engine.containers.remove(user.id)
    for tag in tags:
        await engine.images.remove(tag)
