"""Pulling an image: manifest → platform → config → layers → image store.

The manifest is fetched by tag or digest (and checked against the digest when
one was asked for); from an index the entry for the wanted platform is chosen.
The config gives each layer its diff_id. Layers download a few at a time.
With a ``stream`` callback each layer is unpacked while it downloads, from a
pipe that follows its partial file (engine/registry/blobfeed.py): download,
digest checks, decompression and unpacking all overlap. Without one, or when
the stream broke (a download that had to start again), a layer is unpacked by
the ``unpack`` callback from its stored blob once that is complete and
verified. A ``prepare`` callback starts as soon as the image's manifest is
found to need a layer, so that the unpacker (the engine's helper, a process to
start) gets ready while the layers start downloading. A layer that an image of
the store already uses is in place (the image was recorded once it was): its
blob, when here, costs no download, and the unpacker hears of neither, so
pulling an image that is here starts no helper at all (CPU 1.2 s -> 0.4 s of
benchmarks/pull.py's ``skiff again``). The image is recorded only once every
layer is in place, so a failed pull leaves blobs and partial downloads, never an
image that points at missing content.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from engine.errors import DigestMismatch, LayerError, RegistryError
from engine.images.blobs import BlobStore, digest_of
from engine.images.model import Image, Layer
from engine.images.reference import Reference
from engine.images.sizes import measure_layers
from engine.images.store import ImageStore
from engine.registry.blobfeed import BlobFeed
from engine.registry.download import download_blob, fetch_small_blob
from engine.registry.manifests import (
    ACCEPT,
    INDEX_TYPES,
    MANIFEST_TYPES,
    Descriptor,
    Index,
    Manifest,
    parse,
)
from engine.registry.model import PullProgress
from engine.registry.platforms import Platform, best_match, host
from engine.registry.session import RegistrySession, pull_scope

__all__ = ["Puller", "Reporter", "StreamUnpack", "Unpack", "run_all"]

Unpack = Callable[[Layer], Awaitable[None]]
# Unpacks a layer from a descriptor it reads to the end; it must not close it.
StreamUnpack = Callable[[Layer, int], Awaitable[None]]
_MAX_NESTING = 3


class Reporter:
    """Sends PullProgress events, thinning out the byte counts of each layer."""

    def __init__(self, callback: Callable[[PullProgress], None] | None) -> None:
        self.callback = callback
        self._last: dict[str, int] = {}

    def __call__(self, layer: str, status: str, current: int = 0, total: int = 0) -> None:
        if self.callback is not None:
            self.callback(PullProgress(layer, status, current, total))

    def bytes(self, layer: str, current: int, total: int) -> None:
        last = self._last.get(layer, -1)
        step = max(256 << 10, total // 200)
        # Report the first count, every step, the end, and a restart from zero.
        if last < 0 or current < last or current - last >= step or current >= total:
            self._last[layer] = current
            self(layer, "downloading", current, total)


class Puller:
    def __init__(self, session: RegistrySession, blobs: BlobStore, images: ImageStore, *,
                 progress: Callable[[PullProgress], None] | None, unpack: Unpack,
                 stream: StreamUnpack | None = None,
                 prepare: Callable[[], Awaitable[None]] | None = None, concurrency: int = 3,
                 retries: int = 3) -> None:
        self.session = session
        self.blobs = blobs
        self.images = images
        self.report = Reporter(progress)
        self.unpack = unpack
        self.stream = stream
        self.prepare = prepare
        self._preparing: asyncio.Future[None] | None = None
        self.slots = asyncio.Semaphore(concurrency)
        self.retries = retries

    async def pull(self, ref: Reference, platform: Platform | None) -> Image:
        body, media_type, top_digest = await self.fetch_manifest(
            ref.repository, ref.digest or ref.tag, ref.familiar, expected=ref.digest or None)
        try:
            return await self._pull(ref, platform, body, media_type, top_digest)
        finally:
            preparing, self._preparing = self._preparing, None
            if preparing is not None:
                # Done by now when the pull went well: the unpacks waited for it.
                preparing.cancel()
                await asyncio.gather(preparing, return_exceptions=True)

    async def _pull(self, ref: Reference, platform: Platform | None, body: bytes,
                    media_type: str, top_digest: str) -> Image:
        repository = ref.repository
        document = parse(body, media_type, ref.familiar)
        wanted = platform or host()
        depth = 0
        while isinstance(document, Index):
            depth += 1
            if depth > _MAX_NESTING:
                raise RegistryError(f"{ref.familiar} nests image indexes too deeply")
            entry = choose(document, wanted, ref.familiar)
            body, media_type, _ = await self.fetch_manifest(
                repository, entry.digest, f"{ref.familiar} ({entry.platform or wanted})",
                expected=entry.digest, size=entry.size)
            document = parse(body, media_type, ref.familiar)
        used = self.images.layer_digests()
        if self.prepare is not None and any(b.digest not in used for b in document.layers):
            self._preparing = asyncio.ensure_future(self.prepare())
        config_bytes = await self.fetch_config(repository, document.config)
        config = _config_document(config_bytes, ref.familiar)
        if platform is not None and depth == 0:
            _check_platform(config, platform, ref.familiar)
        layers = _layers(document, config, ref.familiar)
        placed = self.images.diff_ids()
        # Stored while the layers come, not when the image is recorded after them: each is
        # a file and two fsyncs, ~10-30 ms at the end of a pull of benchmarks/pull.py's.
        small = asyncio.ensure_future(asyncio.to_thread(self._store, body, config_bytes))
        try:
            await run_all([self.layer(repository, layer, layer.diff_id in placed)
                           for layer in _unique(layers)])
        finally:
            await asyncio.gather(small, return_exceptions=True)  # add() stores them if not
        await measure_layers(self.images, layers)
        image = self.images.add(
            manifest=body, config=config_bytes, layers=layers,
            tags=[ref.canonical] if ref.tag and not ref.digest else [],
            repo_digests=[f"{ref.name}@{top_digest}"])
        return image

    def _store(self, *documents: bytes) -> None:
        for document in documents:
            self.blobs.put_bytes(document)

    async def fetch_manifest(self, repository: str, reference: str, where: str, *,
                             expected: str | None = None,
                             size: int | None = None) -> tuple[bytes, str, str]:
        """(body, media type, digest) of a manifest, verified when a digest is known."""
        response = await self.session.request(
            "GET", f"/v2/{repository}/manifests/{reference}",
            scopes=[pull_scope(repository)], headers={"Accept": ACCEPT},
            doing=f"fetching the manifest of {where}")
        if response.status_code != 200:
            raise self.session.error(response, subject=f"manifest for {where}")
        body = response.content
        digest = digest_of(body)
        if expected is not None and digest != expected:
            raise DigestMismatch(f"{self.session.registry} sent a manifest for {where} whose "
                                 f"digest is {digest}, not {expected}; nothing was stored")
        if size is not None and len(body) != size:
            raise DigestMismatch(f"the manifest of {where} has {len(body)} bytes, its index "
                                 f"says {size}")
        return body, response.headers.get("content-type", ""), digest

    async def fetch_config(self, repository: str, blob: Descriptor) -> bytes:
        """The config blob; not reported: docker's progress lists layers only."""
        if self.blobs.has(blob.digest):
            return await asyncio.to_thread(self.blobs.read_bytes, blob.digest)
        return await fetch_small_blob(self.session, repository, blob)

    async def layer(self, repository: str, layer: Layer, placed: bool = False) -> None:
        """Download one layer blob unless it is here, then have it unpacked unless it
        is ``placed`` (an image of the store uses it: unpacked, and claimed by us)."""
        if self.blobs.has(layer.digest):
            self.report(layer.digest, "exists", layer.size, layer.size)
            if not placed:
                await self.unpack(layer)
            return
        self.report(layer.digest, "waiting", 0, layer.size)
        blob = Descriptor(layer.media_type, layer.digest, layer.size)
        async with self.slots:
            feed, unpacking = self._start_stream(layer) if not placed else (None, None)

            def on_bytes(on_disk: int) -> None:
                self.report.bytes(layer.digest, on_disk, layer.size)
                if feed is not None:
                    feed.grew(on_disk)

            try:
                await download_blob(
                    self.session, repository, blob, self.blobs, on_bytes=on_bytes,
                    on_verify=lambda: self.report(layer.digest, "verifying", layer.size,
                                                  layer.size),
                    retries=self.retries)
            except BaseException:
                await _stop_stream(feed, unpacking)
                raise
        self.report(layer.digest, "extracting", layer.size, layer.size)
        if not await _finish_stream(feed, unpacking) and not placed:
            await self.unpack(layer)
        self.report(layer.digest, "done", layer.size, layer.size)

    def _start_stream(self, layer: Layer) -> tuple[BlobFeed | None, asyncio.Future[None] | None]:
        """With a stream unpacker: a feed of the blob as it downloads, and its unpack."""
        if self.stream is None:
            return None, None
        feed = BlobFeed(self.blobs.partial_path(layer.digest), layer.size)
        return feed, asyncio.ensure_future(self.stream(layer, feed.reader))


async def _finish_stream(feed: BlobFeed | None, unpacking: asyncio.Future[None] | None) -> bool:
    """Whether the layer was unpacked from the stream; False when it has to be unpacked
    from its stored blob (no stream, or a stream that broke)."""
    if feed is None or unpacking is None:
        return False
    feed.complete()
    try:
        await unpacking
    except (DigestMismatch, LayerError):
        return False  # the stored blob is verified: what went wrong was the stream
    except BaseException:
        await _stop_stream(feed, unpacking)
        raise
    finally:
        await asyncio.to_thread(feed.close)
    return True


async def _stop_stream(feed: BlobFeed | None, unpacking: asyncio.Future[None] | None) -> None:
    if feed is None or unpacking is None:
        return
    feed.fail()
    unpacking.cancel()
    await asyncio.gather(unpacking, return_exceptions=True)
    await asyncio.to_thread(feed.close)


def choose(index: Index, wanted: Platform, where: str) -> Descriptor:
    """The entry of ``index`` for ``wanted``, or an error listing what it offers."""
    usable = [d for d in index.manifests
              if d.platform is not None and d.media_type in (*MANIFEST_TYPES, *INDEX_TYPES)]
    found = best_match(wanted, [d.platform for d in usable if d.platform is not None])
    if found is not None:
        return usable[found]
    offered = sorted({str(d.platform) for d in usable
                      if d.platform is not None and d.platform.os != "unknown"})
    listing = ", ".join(offered) if offered else "no platforms at all"
    raise RegistryError(f"no matching manifest for {wanted} in the manifest list entries of "
                        f"{where}; it offers {listing} (choose one with --platform)")


async def run_all(jobs: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run the jobs concurrently; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    if not tasks:
        return
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _config_document(data: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise RegistryError(f"the image config of {where} is not a JSON object")
    return doc


def _check_platform(config: dict[str, Any], wanted: Platform, where: str) -> None:
    actual = Platform.from_descriptor(config)
    if wanted.accepts(actual) is None:
        raise RegistryError(f"{where} is an image for {actual} only, not for {wanted}")


def _layers(manifest: Manifest, config: dict[str, Any], where: str) -> list[Layer]:
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise RegistryError(f"the image config of {where} has no rootfs.diff_ids list")
    if len(diff_ids) != len(manifest.layers):
        raise RegistryError(f"the image config of {where} lists {len(diff_ids)} layers but "
                            f"its manifest {len(manifest.layers)}")
    layers = []
    for blob, diff_id in zip(manifest.layers, diff_ids, strict=True):
        if not (diff_id.startswith("sha256:") and len(diff_id) == 71):
            raise RegistryError(f"the image config of {where} has an invalid diff_id "
                                f"{diff_id!r}")
        layers.append(Layer(blob.digest, diff_id, blob.size, blob.media_type))
    return layers


def _unique(layers: list[Layer]) -> list[Layer]:
    seen: set[str] = set()
    out = []
    for layer in layers:
        if layer.digest not in seen:
            seen.add(layer.digest)
            out.append(layer)
    return out
