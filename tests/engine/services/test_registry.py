"""The registry verbs through the Engine: layers really unpacked by the helper."""

from __future__ import annotations

from typing import Any

import pytest

from engine.registry.model import PullProgress
from tests.fixtures.registry import LocalRegistry

pytestmark = pytest.mark.root


async def test_engine_pull_unpacks_every_layer_in_the_helper(
        engine: Any, plain_registry: LocalRegistry) -> None:
    events: list[PullProgress] = []
    for repository in ("test/multilayer", "test/tricky"):
        ref = f"{plain_registry.host}/{repository}"
        image = await engine.images.pull(ref, progress=events.append)
        assert (await engine.images.get(ref)).id == image.id
        # Several layers finished close together, so their unpacks overlapped.
        for layer in image.layers:
            assert await engine._shared.helper.call("layer_exists", {"diff_id": layer.diff_id})
    assert {"extracting", "done"} <= {e.status for e in events}


async def test_engine_tags_catalog_search(engine: Any, plain_registry: LocalRegistry) -> None:
    host = plain_registry.host
    assert await engine.registry.tags(f"{host}/test/busybox") == ["1.0", "1.1", "latest"]
    assert f"{host}/test/tricky" in await engine.registry.catalog(host)
    found = await engine.images.search(f"{host}/multi")
    assert [r.name for r in found] == [f"{host}/test/multilayer"]


async def test_pulling_an_image_that_is_here_starts_no_helper(
        engine: Any, plain_registry: LocalRegistry) -> None:
    """Layers the store's images use are in place: a new engine (a new command)
    pulling the image again checks the registry and asks its helper nothing."""
    from engine import Engine

    ref = f"{plain_registry.host}/test/multilayer"
    image = await engine.images.pull(ref)
    events: list[PullProgress] = []
    async with Engine() as fresh:
        again = await fresh.images.pull(ref, progress=events.append)
        assert fresh._shared.helper.pid is None
    assert again.id == image.id
    assert {e.status for e in events} == {"exists"}


async def test_a_name_the_store_does_not_know_starts_the_helper_before_the_manifest(
        engine: Any, plain_registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its layers are most likely needed: the helper gets ready while the registry's
    code loads and its manifest comes, not after."""
    from engine.registry.pull import Puller

    order: list[str] = []
    shared = engine._shared
    repair, fetch = shared.repair_once, Puller.fetch_manifest

    async def recorded_repair() -> None:
        order.append("helper")
        await repair()

    async def recorded_fetch(self: Puller, *args: Any, **kwargs: Any) -> Any:
        order.append("manifest")
        return await fetch(self, *args, **kwargs)

    monkeypatch.setattr(shared, "repair_once", recorded_repair)
    monkeypatch.setattr(Puller, "fetch_manifest", recorded_fetch)
    await engine.images.pull(f"{plain_registry.host}/test/busybox:1.0")
    assert order[:2] == ["helper", "manifest"]


async def test_a_failed_pull_of_an_unknown_name_lets_its_early_helper_end(
        engine: Any, plain_registry: LocalRegistry) -> None:
    """The helper started before the manifest was asked for is not cut off in its start
    when the image is missing: it ends with the engine (killed after 10 s before)."""
    from engine import Engine
    from engine.errors import SkiffError

    async with Engine() as fresh:
        with pytest.raises(SkiffError, match="not found"):
            await fresh.images.pull(f"{plain_registry.host}/test/nosuch")
        helper = fresh._shared.helper
        process = helper._process
        await helper.close()
    assert process is not None and process.returncode == 0
