"""Downloading one blob into the blob store: resumable, verified, retried.

Bytes go to the blob's partial file (``BlobStore.partial``) as they arrive, so
a broken connection, Ctrl-C or a killed process keeps them; the next attempt
asks for the rest with ``Range: bytes=<offset>-``. A blob is installed only
once its size and sha256 match the descriptor; content that does not match is
dropped (and, if it was a resumed download, fetched once more from the start,
since the old part may be what was wrong).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpcore
import httpx

from engine.errors import Conflict, DigestMismatch, RegistryError
from engine.images.blobs import BlobStore, PartialBlob, digest_of
from engine.registry.manifests import Descriptor
from engine.registry.responses import TransientError, transport_error
from engine.registry.session import RegistrySession, pull_scope

__all__ = ["download_blob", "fetch_small_blob"]

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_MAX_SMALL_BLOB = 16 << 20  # image configs; anything bigger is not a config
_WAIT_FOR_OTHER = 0.2  # seconds between looks at a blob another pull is fetching

# httpcore reads a response 64 KiB at a time, and each read goes through h11, anyio
# and httpx in Python: ~1,500 trips for a 95 MB image. Reads of up to 1 MiB take
# 0.07 s of CPU off the engine's 0.85 s for it (benchmarks/pull.py's random image).
httpcore.AsyncHTTP11Connection.READ_NUM_BYTES = 1 << 20


class _Restart(Exception):
    """The registry cannot continue where we stopped: start the blob again."""


async def download_blob(session: RegistrySession, repository: str, blob: Descriptor,
                        blobs: BlobStore, *, on_bytes: Callable[[int], None],
                        on_verify: Callable[[], None], retries: int = 3,
                        backoff: float = 0.5) -> None:
    """Fetch ``blob`` into ``blobs`` (no-op if it is there); raises on failure.

    When another pull is already fetching the same blob, this one waits for it
    (and takes over if that pull gives up). ``on_bytes`` gets the number of
    bytes on disk as they grow, ``on_verify`` is called before the final check.
    """
    failures = 0
    restarted = False
    while not blobs.has(blob.digest):
        try:
            partial = await asyncio.to_thread(blobs.partial, blob.digest)
        except Conflict:
            # Another pull (here or in another process) is fetching this blob: let it.
            await asyncio.sleep(_WAIT_FOR_OTHER)
            continue
        try:
            resumed = partial.offset > 0
            try:
                if partial.offset > blob.size:
                    raise _Restart
                if partial.offset < blob.size:
                    await _receive(session, repository, blob, partial, on_bytes)
                on_verify()
                await asyncio.to_thread(partial.commit, blob.size)
                return
            except _Restart:
                partial.discard()
                restarted = True
                continue
            except DigestMismatch:
                # commit() dropped the bytes; a resumed file may have been the culprit.
                if resumed and not restarted:
                    restarted = True
                    continue
                raise DigestMismatch(
                    f"layer {blob.digest} from {session.registry}/{repository} did not match "
                    "its digest: the registry sent wrong content, nothing was stored") from None
            except TransientError:
                failures += 1
                if failures > retries:
                    raise
        finally:
            partial.close()
        await asyncio.sleep(backoff * 2 ** (failures - 1))


async def _receive(session: RegistrySession, repository: str, blob: Descriptor,
                   partial: PartialBlob, on_bytes: Callable[[int], None]) -> None:
    doing = f"downloading {blob.digest}"
    headers = {"Range": f"bytes={partial.offset}-"} if partial.offset else {}
    async with session.stream("GET", f"/v2/{repository}/blobs/{blob.digest}",
                              scopes=[pull_scope(repository)], doing=doing,
                              headers=headers) as response:
        status = response.status_code
        if status == 416 or (status == 200 and partial.offset):
            raise _Restart  # range not served: the whole blob comes again
        if status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
            if match is None or int(match.group(1)) != partial.offset:
                raise _Restart
        elif status != 200:
            raise session.error(response, subject=f"blob {blob.digest} of "
                                f"{session.registry}/{repository}")
        on_bytes(partial.offset)
        try:
            async for chunk in response.aiter_raw():
                if partial.offset + len(chunk) > blob.size:
                    partial.discard()
                    raise DigestMismatch(
                        f"layer {blob.digest} from {session.registry}/{repository} is larger "
                        f"than the {blob.size} bytes its manifest gives; nothing was stored")
                partial.write(chunk)
                on_bytes(partial.offset)
        except httpx.HTTPError as e:
            raise transport_error(e, registry=session.registry, doing=doing) from None
    if partial.offset < blob.size:
        raise TransientError(f"the download of {blob.digest} from {session.registry} stopped "
                             f"after {partial.offset} of {blob.size} bytes; try again to resume")


async def fetch_small_blob(session: RegistrySession, repository: str,
                           blob: Descriptor) -> bytes:
    """A config blob, read into memory and checked against its digest and size."""
    if blob.size > _MAX_SMALL_BLOB:
        raise RegistryError(f"the config {blob.digest} of {session.registry}/{repository} "
                            f"is implausibly large ({blob.size} bytes)")
    response = await session.request("GET", f"/v2/{repository}/blobs/{blob.digest}",
                                      scopes=[pull_scope(repository)],
                                      doing=f"downloading the config {blob.digest}")
    if response.status_code != 200:
        raise session.error(response, subject=f"config {blob.digest} of "
                            f"{session.registry}/{repository}")
    data = response.content
    if len(data) != blob.size or digest_of(data) != blob.digest:
        raise DigestMismatch(f"the config {blob.digest} from {session.registry}/{repository} "
                             "did not match its digest: the registry sent wrong content")
    return data
