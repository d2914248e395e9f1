"""``engine.builder``: the build cache in system df, and builder prune (dangling, then all)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ImageNotFound
from tests.engine.build.helpers import build, write_context

pytestmark = pytest.mark.root

DOCKERFILE = (
    "FROM busybox\n"
    "RUN echo one > /one\n"
    "COPY a.txt /a.txt\n"
    "RUN --mount=type=cache,target=/cache,id=prunetest cat /a.txt > /cache/seen "
    "&& cat /a.txt > /copy\n"
    "COPY b.txt /b.txt\n"
    "LABEL done=yes\n")


def _ids(images: list[Any]) -> set[str]:
    return {i.id for i in images}


async def test_cache_counted_then_pruned_dangling_then_all(engine: Any,
                                                          tmp_path: Path) -> None:
    before = _ids(await engine.images.list(all=True))
    write_context(tmp_path, {"Dockerfile": DOCKERFILE, "a.txt": "a" * 5000, "b.txt": "b"})
    try:
        old, _, _ = await build(engine, tmp_path, tags=("prunetest:1",))
        usage = await engine.system.df()
        regular = [c for c in usage.build_cache if c.type == "regular"]
        mounts = [c for c in usage.build_cache if c.type == "exec.cachemount"]
        assert len(regular) == 4  # the steps under the tagged image
        assert len(mounts) == 1 and mounts[0].size >= 5000 and not mounts[0].in_use
        assert mounts[0].id not in {v.volume.name for v in usage.volumes}
        assert usage.build_cache_size >= 5000
        old_chain = {"sha256:" + c.id for c in regular}

        # A changed file and the same tag: the old steps after the first RUN dangle.
        (tmp_path / "a.txt").write_text("changed")
        new, _, _ = await build(engine, tmp_path, tags=("prunetest:1",))
        new_chain = {"sha256:" + c.id for c in (await engine.system.df()).build_cache
                     if c.type == "regular"} - old_chain
        shared = old_chain & {i for i in _ids(await engine.images.list(all=True))}
        preview = await engine.builder.prune(dry_run=True)
        pruned = await engine.builder.prune()
        assert sorted(preview.deleted) == sorted(pruned.deleted)
        assert preview.reclaimed == pruned.reclaimed
        gone = {"sha256:" + d for d in pruned.deleted if not d.startswith("buildcache-")}
        assert len(gone) == 3 and gone <= old_chain  # COPY a, RUN, COPY b of the old build
        assert any(d.startswith("buildcache-") for d in pruned.deleted)
        # the cache volume's file; the old layers stay with the old (dangling) image
        assert pruned.reclaimed >= len("changed")
        left = _ids(await engine.images.list(all=True))
        assert new_chain <= left and old.image_id in left  # a dangling image, not cache
        assert (shared - gone) <= left  # the first RUN, which the new build shares
        again, _, _ = await build(engine, tmp_path, tags=("prunetest:1",))
        assert again.image_id == new.image_id and again.cached_steps == again.steps - 1

        # all: every step image no container uses; the tagged image stays and builds anew.
        preview = await engine.builder.prune(all=True, dry_run=True)
        pruned = await engine.builder.prune(all=True)
        assert len(pruned.deleted) >= 4 and sorted(preview.deleted) == sorted(pruned.deleted)
        assert preview.reclaimed == pruned.reclaimed
        usage = await engine.system.df()
        assert usage.build_cache_count == 0 and usage.build_cache_size == 0
        assert (await engine.images.get("prunetest:1")).id == new.image_id
        fresh, _, _ = await build(engine, tmp_path, tags=("prunetest:1",))
        assert fresh.cached_steps == 0
    finally:
        for image in await engine.images.list(all=True):
            if image.id not in before:
                with contextlib.suppress(ImageNotFound):
                    await engine.images.remove(image.id, force=True)
        await engine.builder.prune(all=True)


async def test_keep_storage_removes_the_oldest_first(engine: Any, tmp_path: Path) -> None:
    before = _ids(await engine.images.list(all=True))
    write_context(tmp_path, {"Dockerfile": (
        "FROM busybox\n"
        "RUN --mount=type=cache,target=/c,id=keep-one head -c 5000 /dev/zero > /c/f\n"
        "RUN --mount=type=cache,target=/c,id=keep-two head -c 3000 /dev/zero > /c/f\n"
        "LABEL done=yes\n")})
    try:
        await build(engine, tmp_path, tags=("keeptest:1",))
        volumes = sorted(engine.builder.cache_volumes(), key=lambda v: v.created)
        assert len(volumes) == 2
        assert (await engine.builder.prune(all=True, keep_storage=1 << 20)).deleted == []
        preview = await engine.builder.prune(all=True, keep_storage=4000, dry_run=True)
        pruned = await engine.builder.prune(all=True, keep_storage=4000)
        assert pruned.deleted == preview.deleted == [volumes[0].name]  # 5000 bytes, older
        assert pruned.reclaimed >= 5000
        assert [v.name for v in engine.builder.cache_volumes()] == [volumes[1].name]
    finally:
        for image in await engine.images.list(all=True):
            if image.id not in before:
                with contextlib.suppress(ImageNotFound):
                    await engine.images.remove(image.id, force=True)
        await engine.builder.prune(all=True)
