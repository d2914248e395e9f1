"""The build cache: an unchanged context reuses every step; a changed file reruns from its COPY."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.build.cache import BuildCache
from tests.engine.build.helpers import build, write_context

DOCKERFILE = (
    "FROM busybox\n"
    "RUN echo one > /one\n"
    "COPY a.txt /a.txt\n"
    "RUN cat /a.txt > /copy\n"
    "COPY b.txt /b.txt\n"
    "LABEL done=yes\n")


async def test_second_build_reuses_every_step(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": DOCKERFILE, "a.txt": "a", "b.txt": "b"})
    first, _, _ = await build(engine, tmp_path)
    assert first.cached_steps == 0
    second, events, text = await build(engine, tmp_path)
    assert second.image_id == first.image_id
    assert second.cached_steps == 5
    assert text.count(" ---> Using cache") == 5
    assert not [e for e in events if e.kind == "running"]


async def test_changed_file_reruns_from_its_copy(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": DOCKERFILE, "a.txt": "a", "b.txt": "b"})
    first, _, _ = await build(engine, tmp_path)
    (tmp_path / "a.txt").write_text("changed")
    second, events, _ = await build(engine, tmp_path)
    assert second.image_id != first.image_id
    assert second.cached_steps == 1  # only the first RUN
    steps = [e.step for e in events if e.kind == "cached"]
    assert steps == [2]
    assert len([e for e in events if e.kind == "running"]) == 1


async def test_no_cache_runs_everything(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": DOCKERFILE, "a.txt": "a", "b.txt": "b"})
    await build(engine, tmp_path)
    again, events, _ = await build(engine, tmp_path, no_cache=True)
    assert again.cached_steps == 0
    assert len([e for e in events if e.kind == "running"]) == 2


async def test_intermediate_images_hidden_counted_and_pruned(engine: Any,
                                                             tmp_path: Path) -> None:
    write_context(tmp_path, {"Dockerfile": DOCKERFILE, "a.txt": "a", "b.txt": "b"})
    built, _, _ = await build(engine, tmp_path, tags=("cachetest:1",))
    cache = BuildCache(engine._shared.db)
    chain = []
    parent = cache.parent_of(built.image_id)
    while parent and parent.startswith("sha256:") and parent != busybox_id(engine):
        chain.append(parent)
        parent = cache.parent_of(parent)
    assert len(chain) == 4  # the steps before the last one, which made the image
    shown = {i.id for i in await engine.images.list()}
    every = {i.id for i in await engine.images.list(all=True)}
    assert built.image_id in shown and set(chain) <= every - shown
    usage = await engine.system.df()
    assert usage.build_cache_count >= len(chain)
    assert built.image_id in {row.image.id for row in usage.images}
    await engine.images.prune()  # the final image is tagged: its steps stay
    assert set(chain) <= {i.id for i in await engine.images.list(all=True)}
    removed = await engine.images.remove("cachetest:1")  # its steps go with it, as docker
    assert {("Deleted", step) for step in chain} <= set(removed)
    assert not set(chain) & {i.id for i in await engine.images.list(all=True)}
    # an untagged (dangling) build: prune takes it and the steps it was made from
    again, _, _ = await build(engine, tmp_path, no_cache=True)
    would = await engine.images.prune(dry_run=True)
    pruned = await engine.images.prune()
    assert (pruned.deleted, pruned.reclaimed) == (would.deleted, would.reclaimed)
    assert f"deleted: {again.image_id}" in pruned.deleted
    assert len(pruned.deleted) >= 5


def busybox_id(engine: Any) -> str:
    return str(engine._shared.image_store.get("busybox:latest").id)
