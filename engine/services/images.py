"""``engine.images``: the local images and the verbs that bring them in and out
(pull, push, load, save, import) or name them (tag, remove).

Pulls and pushes go through the registry client (engine/registry); archives
through engine/images/archive.py (load) and save.py; the layers are unpacked by the helper.
"""

from __future__ import annotations

import asyncio
import builtins
import importlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import (
    ImageNotFound,
    InUse,
    InvalidArgument,
    LayerError,
    NotFound,
    SkiffError,
)
from engine.images.model import Image, Layer
from engine.images.reference import Reference
from engine.prune import EVERYTHING, Pruned, PruneFilter
from engine.services.shared import Shared
from engine.wire.requests import RemoveLayer

if TYPE_CHECKING:
    from engine.build.builder import BuildOptions, BuildResult
    from engine.build.context import BuildContext
    from engine.build.events import BuildEvent
    from engine.build.seam import EngineSeam
    from engine.images.history import HistoryEntry
    from engine.images.store import ImageStore
    from engine.registry.credentials import Credentials
    from engine.registry.model import PullProgress, PushProgress, SearchResult

__all__ = ["ImageService"]


class ImageService:
    def __init__(self, shared: Shared, seam: Callable[[], EngineSeam]) -> None:
        self._s = shared
        self._seam = seam

    # -- the common verbs -------------------------------------------------------------
    async def list(self, all: bool = False) -> builtins.list[Image]:
        """The local images; without ``all``, not a build's intermediate ones."""
        images = self._s.image_store.list()
        if all:
            return images
        hidden = self._s.build_cache().intermediate(images)
        return [i for i in images if i.id not in hidden]

    async def get(self, ref: str) -> Image:
        """By reference, full or short ID; raises ImageNotFound."""
        return self._s.image_store.get(ref)

    async def inspect(self, ref: str) -> Image:
        """The image, as ``get`` finds it; ``docker_json()`` is docker image inspect's
        document."""
        return self._s.image_store.get(ref)

    async def remove(self, ref: str, force: bool = False) -> builtins.list[tuple[str, str]]:
        """Returns docker's ("Untagged"|"Deleted", name) lines."""
        s = self._s
        image = s.image_store.get(ref)
        named = _tag_of(ref, image)
        lines: list[tuple[str, str]] = []
        if named and len(image.repo_tags) > 1:
            s.image_store.untag(named)
            s.emit("image", "untag", image.id, name=Reference.parse(named).familiar)
            return [("Untagged", Reference.parse(named).familiar)]
        users = s.container_store.users_of_image(image.id)
        if users and not force:
            user = users[0]
            what = f'repository reference "{ref}"' if named else image.short_id
            raise InUse(f"conflict: unable to remove {what} (must force) - container "
                        f"{user.id[:12]} ({user.name}) is using its referenced image "
                        f"{image.short_id}")
        for tag in image.repo_tags:
            lines.append(("Untagged", Reference.parse(tag).familiar))
        for digest_ref in image.repo_digests:
            lines.append(("Untagged", digest_ref))
        if users:  # forced: the image keeps existing for its containers, untagged
            for tag in image.repo_tags:
                s.image_store.untag(tag)
                s.emit("image", "untag", image.id, name=Reference.parse(tag).familiar)
            return lines
        # Our images no longer need these: the helper drops our references, and a
        # layer only once no user and no container needs it (ours included).
        for diff_id in s.image_store.remove(image.id):
            await s.call(RemoveLayer(diff_id=diff_id))
        for tag in image.repo_tags:
            s.emit("image", "untag", image.id, name=Reference.parse(tag).familiar)
        s.emit("image", "delete", image.id, name=image.id)
        lines.append(("Deleted", image.id))
        return lines + await self._remove_build_parent(image.id)

    async def _remove_build_parent(self, image_id: str) -> builtins.list[tuple[str, str]]:
        """As docker's rmi: the untagged image a build made this one from goes too (and
        so on up), unless it is named, used, or something else is built on it."""
        s = self._s
        cache = s.build_cache()
        parent = cache.parent_of(image_id)
        if not parent or not parent.startswith("sha256:"):
            return []
        try:
            image = s.image_store.get(parent)
        except ImageNotFound:
            return []
        if image.repo_tags or s.container_store.users_of_image(image.id) or \
                image.id in cache.parents({i.id for i in s.image_store.list()}):
            return []
        return await self.remove(image.id)

    async def prune(self, all: bool = False, chosen: PruneFilter = EVERYTHING,
                    *, dry_run: bool = False) -> Pruned:
        """Remove untagged images no container uses (``all``: every unused image) that
        ``chosen`` allows; ``deleted`` holds docker's "untagged: …"/"deleted: …" lines.
        With ``dry_run`` nothing goes: the answer is what the prune would do now."""
        if dry_run:
            return self._prune_preview(all, chosen)
        store = self._s.image_store
        cache = self._s.build_cache()
        used = {record.config.image_id for record in self._s.container_store.all()}
        result = Pruned()
        sizes = store.layer_sizes()
        before = store.diff_ids()
        failed: set[str] = set()
        while True:
            # A build's intermediate images go once nothing is built on them any more.
            images = store.list()
            kept = cache.intermediate(images) if not all else set()
            doomed = [image for image in images
                      if image.id not in used and image.id not in kept
                      and image.id not in failed and (all or not image.repo_tags)
                      and chosen.allows(image.run_config.get("Labels"), image.created)]
            if not doomed:
                break
            for image in doomed:
                try:
                    lines = await self.remove(image.id)
                except NotFound:
                    continue
                except SkiffError as exc:
                    result.errors.append(exc)
                    failed.add(image.id)
                    continue
                result.deleted += [f"{kind.lower()}: {name}" for kind, name in lines]
        result.reclaimed = sum(sizes.get(d, 0) for d in before - store.diff_ids())
        return result

    def _prune_preview(self, all: bool, chosen: PruneFilter) -> Pruned:
        """What ``prune`` would answer, found by playing its removals on the listing:
        the same rounds, the same build parents going along, the same layers freed."""
        store = self._s.image_store
        cache = self._s.build_cache()
        used = {record.config.image_id for record in self._s.container_store.all()}
        images = {image.id: image for image in store.list()}
        before = {layer.diff_id for image in images.values() for layer in image.layers}
        result = Pruned()

        def drop(image: Image) -> None:
            """As ``remove(image.id)``: its names, itself, then its build parent."""
            del images[image.id]
            result.deleted += [f"untagged: {Reference.parse(t).familiar}"
                               for t in image.repo_tags]
            result.deleted += [f"untagged: {d}" for d in image.repo_digests]
            result.deleted.append(f"deleted: {image.id}")
            parent = images.get(cache.parent_of(image.id) or "")
            if parent is not None and not parent.repo_tags and parent.id not in used and \
                    parent.id not in cache.parents(set(images)):
                drop(parent)

        while True:
            listed = builtins.list(images.values())
            kept = cache.intermediate(listed) if not all else set()
            doomed = [image for image in listed
                      if image.id not in used and image.id not in kept
                      and (all or not image.repo_tags)
                      and chosen.allows(image.run_config.get("Labels"), image.created)]
            if not doomed:
                break
            for image in doomed:
                if image.id in images:
                    drop(image)
        sizes = store.layer_sizes()
        left = {layer.diff_id for image in images.values() for layer in image.layers}
        result.reclaimed = sum(sizes.get(d, 0) for d in before - left)
        return result

    # -- names ------------------------------------------------------------------------
    async def tag(self, source: str, target: str) -> None:
        image = self._s.image_store.get(source)
        name = Reference.parse(target).canonical
        self._s.image_store.tag(image.id, name)
        self._s.emit("image", "tag", image.id, name=Reference.parse(name).familiar)

    async def layer_sizes(self) -> dict[str, int]:
        """The unpacked size of every measured layer, by diff_id (what a prune frees)."""
        return dict(self._s.image_store.layer_sizes())

    async def history(self, ref: str) -> builtins.list[HistoryEntry]:
        """docker history: the image's build steps, newest first (engine/images/history.py)."""
        image = self._s.image_store.get(ref)
        await _measure_layers(self._s.image_store, image.layers)
        from engine.images.history import image_history

        entries = image_history(image, self._s.image_store.layer_sizes())
        # The classic builder's view: each step a build made an image of shows its ID.
        found: builtins.list[HistoryEntry] = self._s.build_cache().history_ids(
            self._s.image_store, image, entries)
        return found

    async def build(self, context: BuildContext, options: BuildOptions,
                    progress: Callable[[BuildEvent], None] | None = None) -> BuildResult:
        """docker build (engine/build/): progress gets BuildEvents."""
        from engine.build.builder import Builder

        return await Builder(self._seam(), context, options, progress).build()

    # -- registries -------------------------------------------------------------------
    async def pull(self, ref: str, *, platform: str | None = None,
                   progress: Callable[[PullProgress], None] | None = None,
                   credentials: tuple[str, str] | None = None) -> Image:
        """Pull and unpack; progress gets per-layer PullProgress events. ``credentials``
        (user, password) are used for this pull instead of the stored ones."""
        reference = Reference.parse(ref)
        # A name the store does not know needs layers, most likely: the helper (a process
        # to start, ~0.3 s) gets ready while the registry's code loads (httpx: ~0.1 s,
        # on a thread so that the loop starts the helper meanwhile) and its manifest
        # comes, unless starting it could ask for a password.
        early = None
        if self._s.helper.starts_unasked() and not _known(self._s.image_store, ref):
            early = asyncio.ensure_future(self._s.repair_once())
        try:
            if early is not None:
                await asyncio.to_thread(importlib.import_module, "engine.registry.service")
            image = await self._s.registry().pull(
                reference, platform=platform, progress=progress,
                unpack=self._s.unpack_layer, stream=self._s.stream_layer,
                prepare=self._s.repair_once, credentials=_credentials(credentials))
        finally:
            if early is not None:
                # Not cancelled: a helper cut off in its start waited for us until the
                # engine's close gave up on it (a pull of a missing image took 11 s).
                await asyncio.gather(early, return_exceptions=True)
        familiar = Reference.parse(ref).familiar
        self._s.emit("image", "pull", familiar, name=familiar)
        return image

    async def push(self, ref: str, *,
                   progress: Callable[[PushProgress], None] | None = None,
                   credentials: tuple[str, str] | None = None) -> str:
        """Returns the pushed manifest digest; ``credentials`` as for pull."""
        reference = Reference.parse(ref)
        image = self._s.image_store.get(ref)
        digest = await self._s.registry().push(reference, image, progress=progress,
                                               credentials=_credentials(credentials))
        self._s.emit("image", "push", reference.familiar, name=reference.familiar)
        return digest

    async def search(self, term: str, limit: int = 25) -> builtins.list[SearchResult]:
        """docker search: Docker Hub, or ``registry/term`` a private registry's catalog."""
        return await self._s.registry().search(term, limit)

    # -- archives ---------------------------------------------------------------------
    async def load(self, archive: Path) -> builtins.list[Image]:
        """Import a docker save or OCI archive; each image with the tags the archive gave."""
        from engine.images.archive import read_archive

        s = self._s
        if not archive.is_file():
            raise InvalidArgument(f"open {archive}: no such file")
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, read_archive, archive, s.blobs)
        images = []
        for item in found:
            for layer in item.layers:
                await s.unpack_layer(layer)
            await _measure_layers(s.image_store, item.layers)
            stored = s.image_store.add(manifest=item.manifest, config=item.config,
                                       layers=item.layers, tags=item.tags)
            # What the archive named, as `docker load` reports it (not older tags).
            images.append(replace(stored, repo_tags=[t for t in stored.repo_tags
                                                     if t in item.tags]))
            s.emit("image", "load", stored.id,
                   name=",".join(Reference.parse(t).familiar for t in item.tags) or stored.id)
        return images

    async def save(self, refs: Sequence[str], archive: Path) -> None:
        """docker save: the images, with the tags ``refs`` name, as one archive."""
        from engine.images.save import write_archive

        chosen: list[tuple[Image, list[str]]] = []
        for ref in refs:
            image = self._s.image_store.get(ref)
            tags = [t for t in image.repo_tags if _names_tag(ref, t)]
            if not tags and not _names_id(ref, image):  # by an ID: no names, as docker
                tags = list(image.repo_tags)
            chosen.append((image, tags))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, write_archive, archive, chosen, self._s.blobs)
        for image, tags in chosen:
            self._s.emit("image", "save", image.id,
                         name=",".join(Reference.parse(t).familiar for t in tags) or image.id)

    async def import_(self, source: Path, reference: str = "", *,
                      changes: Sequence[str] = (), message: str = "",
                      platform: str | None = None) -> Image:
        """docker import: a filesystem tarball (plain or compressed) as a one-layer image,
        tagged ``reference`` if given (engine/images/importer.py)."""
        from engine.images.importer import build_import, store_tarball
        from engine.registry.platforms import Platform, host

        s = self._s
        wanted = Platform.parse(platform) if platform else host()
        tag = Reference.parse(reference).canonical if reference else ""
        if not source.is_file():
            raise InvalidArgument(f"open {source}: no such file")
        loop = asyncio.get_running_loop()
        layer, new = await loop.run_in_executor(None, store_tarball, s.blobs, source)
        imported = build_import(layer, changes=changes, message=message, os_name=wanted.os,
                                architecture=wanted.architecture, variant=wanted.variant)
        try:
            await s.unpack_layer(layer)
        except LayerError as exc:
            if new and layer.diff_id not in s.image_store.diff_ids():
                s.blobs.remove(layer.digest)
            raise InvalidArgument(f"cannot import {source.name}: {exc}") from None
        await _measure_layers(s.image_store, imported.layers)
        return s.image_store.add(manifest=imported.manifest, config=imported.config,
                                 layers=imported.layers, tags=[tag] if tag else [])


def _known(store: ImageStore, ref: str) -> bool:
    try:
        store.get(ref)
    except ImageNotFound:
        return False
    return True


def _credentials(pair: tuple[str, str] | None) -> Credentials | None:
    """(user, password) as the registry client's Credentials; None: the stored ones."""
    if pair is None:
        return None
    from engine.registry.credentials import Credentials

    return Credentials(*pair)


def _names_tag(ref: str, tag: str) -> bool:
    try:
        return Reference.parse(ref).canonical == tag
    except InvalidArgument:
        return False


def _names_id(ref: str, image: Image) -> bool:
    """Whether ``ref`` is the image's ID or a prefix of it."""
    hex_part = ref.removeprefix("sha256:")
    return bool(hex_part) and image.id.removeprefix("sha256:").startswith(hex_part)


def _tag_of(ref: str, image: Image) -> str:
    """The tag ``ref`` names, if it names one of the image's tags (not an ID)."""
    for tag in image.repo_tags:
        if _names_tag(ref, tag):
            return tag
    return ""


async def _measure_layers(store: ImageStore, layers: Sequence[Layer]) -> None:
    """engine/images/sizes.py's, imported when sizes are asked for: it brings the
    decompressors (zstandard, gzip: ~6 ms a command) that `run` never needs."""
    from engine.images.sizes import measure_layers

    await measure_layers(store, layers)
