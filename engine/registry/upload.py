"""Uploading one blob from the blob store, the cheapest way the registry allows.

In order: nothing if the registry has it (HEAD), a cross-repository mount when
the blob came from another repository of the same registry (``POST
?mount=<digest>&from=<repo>``, answered 201 if done, 202 with an ordinary
upload session otherwise), a monolithic ``PUT`` for blobs up to the chunk
size, and ``PATCH`` chunks then a closing ``PUT`` for bigger ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import BinaryIO

import httpx

from engine.errors import RegistryError
from engine.images.blobs import BlobStore
from engine.registry.session import RegistrySession, push_scope

__all__ = ["upload_blob"]

_READ = 1 << 20


async def upload_blob(session: RegistrySession, repository: str, digest: str, size: int,
                      blobs: BlobStore, *, mount_from: Sequence[str], chunk_size: int,
                      status: Callable[[str, int], None]) -> None:
    """Make ``digest`` exist in ``repository``; ``status(name, bytes_sent)`` reports steps.

    The statuses are ``exists``, ``mounted``, ``pushing`` and ``done``.
    """
    scopes = [push_scope(repository), *(f"repository:{r}:pull" for r in mount_from)]
    subject = f"{session.registry}/{repository}"
    head = await session.request("HEAD", f"/v2/{repository}/blobs/{digest}", scopes=scopes,
                                 doing=f"checking for {digest}")
    if head.status_code == 200:
        status("exists", size)
        return
    if head.status_code not in (404,):
        raise session.error(head, subject=subject, action="push")
    location = ""
    for source in mount_from:
        response = await session.request(
            "POST", f"/v2/{repository}/blobs/uploads/", scopes=scopes,
            params={"mount": digest, "from": source}, doing=f"mounting {digest}")
        if response.status_code == 201:
            status("mounted", size)
            return
        if response.status_code == 202:
            location = response.headers.get("location", "")
            break
    if not location:
        response = await session.request("POST", f"/v2/{repository}/blobs/uploads/",
                                         scopes=scopes, doing=f"starting the upload of {digest}")
        if response.status_code != 202:
            raise session.error(response, subject=subject, action="push")
        location = response.headers.get("location", "")
    if not location:
        raise RegistryError(f"{session.registry} started an upload without saying where to "
                            "send it (no Location header)")
    status("pushing", 0)
    if size <= chunk_size:
        await _monolithic(session, repository, location, digest, size, blobs, scopes, status)
    else:
        await _chunked(session, repository, location, digest, size, blobs, scopes, chunk_size,
                       status)
    status("done", size)


async def _monolithic(session: RegistrySession, repository: str, location: str, digest: str,
                      size: int, blobs: BlobStore, scopes: list[str],
                      status: Callable[[str, int], None]) -> None:
    def body() -> AsyncIterator[bytes]:
        return _read(blobs, digest, 0, size, status)

    url = httpx.URL(session.base_url).join(location).copy_merge_params({"digest": digest})
    response = await session.request(
        "PUT", str(url), scopes=scopes, content=body, doing=f"uploading {digest}",
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
    if response.status_code not in (201, 204):
        raise session.error(response, subject=f"blob {digest} of {session.registry}/"
                            f"{repository}", action="push")


async def _chunked(session: RegistrySession, repository: str, location: str, digest: str,
                   size: int, blobs: BlobStore, scopes: list[str], chunk_size: int,
                   status: Callable[[str, int], None]) -> None:
    subject = f"blob {digest} of {session.registry}/{repository}"
    offset = 0
    while offset < size:
        length = min(chunk_size, size - offset)
        start = offset

        def body(start: int = start, length: int = length) -> AsyncIterator[bytes]:
            return _read(blobs, digest, start, length, status)

        url = httpx.URL(session.base_url).join(location)
        response = await session.request(
            "PATCH", str(url), scopes=scopes, content=body, doing=f"uploading {digest}",
            headers={"Content-Type": "application/octet-stream",
                     "Content-Length": str(length),
                     "Content-Range": f"{start}-{start + length - 1}"})
        if response.status_code != 202:
            raise session.error(response, subject=subject, action="push")
        location = response.headers.get("location", location)
        offset += length
    url = httpx.URL(session.base_url).join(location).copy_merge_params({"digest": digest})
    response = await session.request("PUT", str(url), scopes=scopes, content=b"",
                                     doing=f"finishing the upload of {digest}",
                                     headers={"Content-Length": "0"})
    if response.status_code not in (201, 204):
        raise session.error(response, subject=subject, action="push")


async def _read(blobs: BlobStore, digest: str, start: int, length: int,
                status: Callable[[str, int], None]) -> AsyncIterator[bytes]:
    stream: BinaryIO = await asyncio.to_thread(blobs.open, digest)
    try:
        stream.seek(start)
        left = length
        while left > 0:
            chunk = await asyncio.to_thread(stream.read, min(_READ, left))
            if not chunk:
                raise RegistryError(f"the local blob {digest} is shorter than its manifest "
                                    "says; pull or load the image again")
            left -= len(chunk)
            status("pushing", start + length - left)
            yield chunk
    finally:
        stream.close()
