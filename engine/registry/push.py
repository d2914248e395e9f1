"""Pushing an image: its blobs (a few at a time), then its manifest.

The manifest is pushed exactly as stored, byte for byte, so its digest (and
the image's identity on the registry) is the one the image already has.
Blobs the image got from another repository of the same registry are
mounted from there instead of uploaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from engine.errors import InvalidArgument, RegistryError
from engine.images.blobs import BlobStore, digest_of
from engine.images.model import Image
from engine.images.reference import Reference
from engine.registry.manifests import Manifest, parse
from engine.registry.model import PushProgress
from engine.registry.pull import run_all
from engine.registry.session import RegistrySession, push_scope
from engine.registry.upload import upload_blob

__all__ = ["Pusher", "mount_sources"]


def mount_sources(image: Image, target: Reference) -> list[str]:
    """Other repositories of ``target``'s registry that the image is known from."""
    found: list[str] = []
    for name in (*image.repo_digests, *image.repo_tags):
        try:
            ref = Reference.parse(name)
        except InvalidArgument:
            continue
        if ref.registry == target.registry and ref.repository != target.repository \
                and ref.repository not in found:
            found.append(ref.repository)
    return found


class Pusher:
    def __init__(self, session: RegistrySession, blobs: BlobStore, *,
                 progress: Callable[[PushProgress], None] | None, chunk_size: int,
                 concurrency: int = 3) -> None:
        self.session = session
        self.blobs = blobs
        self.progress = progress
        self.chunk_size = chunk_size
        self.slots = asyncio.Semaphore(concurrency)

    async def push(self, ref: Reference, image: Image, manifest: bytes,
                   media_type: str) -> str:
        document = parse(manifest, media_type, ref.familiar)
        if not isinstance(document, Manifest):
            raise RegistryError(f"cannot push {ref.familiar}: the stored manifest is an index")
        sources = mount_sources(image, ref)
        blobs = [document.config, *document.layers]
        for blob in blobs:
            if not self.blobs.has(blob.digest):
                raise RegistryError(f"cannot push {ref.familiar}: its blob {blob.digest} is "
                                    "missing from the local store; pull or load it again")
        seen: set[str] = set()
        jobs = []
        # Progress for the layers only, as docker lists them; the config goes up silently.
        shown = {layer.digest for layer in document.layers}
        for blob in blobs:
            if blob.digest not in seen:
                seen.add(blob.digest)
                report = blob.digest in shown
                if report:
                    self._report(blob.digest, "waiting", 0, blob.size)
                jobs.append(self._blob(ref.repository, blob.digest, blob.size, sources, report))
        await run_all(jobs)
        target = ref.digest or ref.tag
        response = await self.session.request(
            "PUT", f"/v2/{ref.repository}/manifests/{target}",
            scopes=[push_scope(ref.repository)], content=manifest,
            headers={"Content-Type": document.media_type},
            doing=f"uploading the manifest of {ref.familiar}")
        if response.status_code not in (200, 201, 202):
            raise self.session.error(response, subject=ref.familiar, action="push")
        digest = digest_of(manifest)
        answered = response.headers.get("docker-content-digest", "")
        if answered and answered != digest:
            raise RegistryError(f"{self.session.registry} stored the manifest of {ref.familiar} "
                                f"as {answered}, not {digest}")
        return digest

    async def _blob(self, repository: str, digest: str, size: int,
                    sources: list[str], report: bool) -> None:
        def status(name: str, sent: int) -> None:
            if report:
                self._report(digest, name, sent, size)

        async with self.slots:
            await upload_blob(
                self.session, repository, digest, size, self.blobs, mount_from=sources,
                chunk_size=self.chunk_size, status=status)

    def _report(self, layer: str, status: str, current: int, total: int) -> None:
        if self.progress is not None:
            self.progress(PushProgress(layer, status, current, total))
