"""Docker's JSON progress stream (pull, push, load, import), one message a line.

dockerd answers these with ``application/json`` chunks, one JSON object each:
``{"status": "Downloading", "id": "9ad63333ebc9", "progressDetail": {...},
"progress": "[==>  ] 1MB/4MB"}``; the docker CLI, docker-py and compose draw
them. An error before anything was sent is an ordinary HTTP error; once the
stream has begun it can only travel in the stream, as ``{"errorDetail":
{"message": …}, "error": …}``, which is what clients look for.

The engine reports progress through plain callbacks; :class:`ProgressStream`
queues what they report and writes it from the request's own task.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from engine import (
    PULL_WORDS,
    PUSH_WORDS,
    WITH_BAR,
    SkiffError,
    layer_id,
    progress_bar,
)

__all__ = ["ProgressStream", "PullMessages", "PushMessages", "error_message"]

T = TypeVar("T")
Message = dict[str, Any]

def _layer_message(word: str, ident: str, status: str, current: int, total: int) -> Message:
    message: Message = {"status": word, "progressDetail": {}, "id": ident}
    if status in WITH_BAR:
        message["progressDetail"] = {"current": current, "total": total} if total \
            else {"current": current}
        bar = progress_bar(current, total)
        if bar:
            message["progress"] = bar
    return message


class PullMessages:
    """Turns the engine's PullProgress events into dockerd's lines, with the
    "Pulling fs layer" and "Download complete" steps docker shows in between."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, event: Any) -> list[Message]:
        ident = layer_id(event.layer)
        status = str(event.status)
        before = self.seen.get(ident)
        self.seen[ident] = status
        out: list[Message] = []
        if before is None and status not in ("exists",):
            out.append({"status": "Pulling fs layer", "progressDetail": {}, "id": ident})
        if status == "extracting" and before in (None, "waiting", "downloading", "verifying"):
            out.append({"status": "Download complete", "progressDetail": {}, "id": ident})
        if before == status and status not in WITH_BAR:
            return out
        word = PULL_WORDS.get(status, status.capitalize())
        out.append(_layer_message(word, ident, status, int(event.current), int(event.total)))
        return out


class PushMessages:
    """The engine's PushProgress events as dockerd's push lines ("Preparing" first)."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, event: Any) -> list[Message]:
        ident = layer_id(event.layer)
        status = str(event.status)
        before = self.seen.get(ident)
        self.seen[ident] = status
        out: list[Message] = []
        if before is None:
            out.append({"status": "Preparing", "progressDetail": {}, "id": ident})
        if before == status and status not in WITH_BAR:
            return out
        word = PUSH_WORDS.get(status, status.capitalize())
        out.append(_layer_message(word, ident, status, int(event.current), int(event.total)))
        return out


def error_message(text: str) -> Message:
    return {"errorDetail": {"message": text}, "error": text}


class ProgressStream:
    """A chunked JSON answer that starts with its first message.

    ``run(job)`` runs ``job(report)``, where ``report(message)`` may be called
    from the engine's callbacks; messages are written in order from this task.
    An engine error raised before the first message propagates (an HTTP error);
    after it, it ends the stream as an error message.
    """

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.response: web.StreamResponse | None = None
        self.queue: asyncio.Queue[Message] = asyncio.Queue()

    @property
    def started(self) -> bool:
        return self.response is not None

    def report(self, message: Message) -> None:
        self.queue.put_nowait(message)

    async def send(self, message: Message) -> None:
        if self.response is None:
            self.response = web.StreamResponse(headers={"Content-Type": "application/json"})
            self.response.enable_chunked_encoding()
            await self.response.prepare(self.request)
        await self.response.write(json.dumps(message).encode() + b"\r\n")

    async def _drain(self) -> None:
        while not self.queue.empty():
            await self.send(self.queue.get_nowait())

    async def run(self, job: Callable[[Callable[[Message], None]], Awaitable[T]]) -> T:
        task = asyncio.ensure_future(job(self.report))
        try:
            while not task.done():
                getter = asyncio.ensure_future(self.queue.get())
                await asyncio.wait([task, getter], return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    await self.send(getter.result())
                else:
                    getter.cancel()
            await self._drain()
            return task.result()
        finally:
            if not task.done():  # the client went away: stop the work too
                task.cancel()

    async def finish(self, error: SkiffError | None = None) -> web.StreamResponse:
        """End the stream (with ``error`` as its last message, if any)."""
        if error is not None:
            if not self.started:
                raise error
            await self.send(error_message(str(error)))
        if self.response is None:
            self.response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await self.response.prepare(self.request)
        await self.response.write_eof()
        return self.response
