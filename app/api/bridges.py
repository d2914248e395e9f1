"""File objects for the engine's blocking copy loops, backed by an HTTP stream.

The engine copies archives in a worker thread, reading from or writing to a
file object; these hand each chunk to the event loop and wait for it, so a
request body streams into the container and an archive streams out to the
client with the client's own pace, never whole in memory.
"""

from __future__ import annotations

import asyncio
import io

from aiohttp import StreamReader, web

__all__ = ["BodyReader", "ResponseWriter"]


class ResponseWriter(io.RawIOBase):
    """Writes go to an aiohttp response, one awaited chunk at a time."""

    def __init__(self, response: web.StreamResponse, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._response = response
        self._loop = loop

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        asyncio.run_coroutine_threadsafe(self._response.write(bytes(data)),
                                         self._loop).result()
        return len(data)


class BodyReader(io.RawIOBase):
    """Reads come from a request body as the client sends it."""

    def __init__(self, content: StreamReader, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._content = content
        self._loop = loop

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = size if size and size > 0 else 1 << 16
        return asyncio.run_coroutine_threadsafe(self._content.read(chunk),
                                                self._loop).result()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
