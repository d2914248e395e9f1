"""Removing what nothing uses: docker's container, image and network prune.

Each returns a :class:`Pruned`: what went (container IDs, docker's
"untagged: …"/"deleted: …" image lines, network names), the bytes that freed
(what the containers wrote; the layers no image uses any more), and the
errors of the objects that could not go (the others still went).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import NotFound, SkiffError

if TYPE_CHECKING:
    from engine.engine import Engine

__all__ = ["PREDEFINED_NETWORKS", "Pruned", "prune_containers", "prune_images",
           "prune_networks"]

PREDEFINED_NETWORKS = ("bridge", "host", "none")


@dataclass
class Pruned:
    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0  # bytes
    errors: list[SkiffError] = field(default_factory=list)


async def prune_containers(engine: Engine) -> Pruned:
    """Every container that is not running (created, exited, dead)."""
    stopped = [c for c in await engine.containers(all=True) if not c.state.status.is_active]
    result = Pruned()
    if not stopped:
        return result
    sizes = await engine.container_sizes([c.id for c in stopped])
    for container in stopped:
        try:
            await engine.remove(container.id)
        except NotFound:
            continue
        except SkiffError as exc:
            result.errors.append(exc)
            continue
        result.deleted.append(container.id)
        result.reclaimed += sizes.get(container.id, 0)
    return result


async def prune_images(engine: Engine, all_images: bool = False) -> Pruned:
    """Untagged images no container uses; with ``all_images`` every image none uses."""
    from engine.build.cache import BuildCache

    store = engine.image_store
    cache = BuildCache(engine.db)
    used = {record.config.image_id for record in engine.container_store.all()}
    result = Pruned()
    sizes = store.layer_sizes()
    before = store.diff_ids()
    failed: set[str] = set()
    while True:
        # A build's intermediate images go once nothing is built on them any more.
        images = store.list()
        kept = cache.intermediate(images) if not all_images else set()
        doomed = [image for image in images
                  if image.id not in used and image.id not in kept and image.id not in failed
                  and (all_images or not image.repo_tags)]
        if not doomed:
            break
        for image in doomed:
            try:
                lines = await engine.remove_image(image.id)
            except NotFound:
                continue
            except SkiffError as exc:
                result.errors.append(exc)
                failed.add(image.id)
                continue
            result.deleted += [f"{kind.lower()}: {name}" for kind, name in lines]
    result.reclaimed = sum(sizes.get(d, 0) for d in before - store.diff_ids())
    return result


async def prune_networks(engine: Engine) -> Pruned:
    """User-defined networks that no container (running or not) is on."""
    wanted = {record.config.network for record in engine.container_store.all()}
    result = Pruned()
    for network in await engine.networks():
        name = str(network.get("Name", ""))
        if name in PREDEFINED_NETWORKS or name in wanted or network.get("Containers"):
            continue
        try:
            await engine.network_remove(name)
        except NotFound:
            continue
        except SkiffError as exc:
            result.errors.append(exc)
            continue
        result.deleted.append(name)
    return result
