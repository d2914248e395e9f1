"""Container output on our stdout and stderr: ``logs`` and attached ``run``/``start -a``.

Lines go to the stream they came from, as bytes, unchanged. Output is flushed
a few times a second rather than per line, so that a container writing
100,000 lines a second is not slowed down by us, yet ``logs -f`` through a
pipe still shows lines promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from app.cli.linewriter import LineWriter
from engine import rfc3339_ns

__all__ = ["LogWriter", "follow_until_exit", "print_logs"]

FLUSH_INTERVAL = 0.05


class LogWriter(LineWriter):
    """Writes LogLine records to two byte streams, flushing on a short timer."""

    def __init__(self, out: IO[bytes], err: IO[bytes], timestamps: bool = False) -> None:
        super().__init__(out, err, timestamps)
        self._flusher: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LogWriter:
        self._flusher = asyncio.create_task(self._flush_loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        with contextlib.suppress(BrokenPipeError):
            self.flush()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            self.flush()


def _in_window(line: Any, since_ns: int | None, until_ns: int | None) -> tuple[bool, bool]:
    """(show it, past the end): the --since/--until filter on a line's time."""
    if since_ns is None and until_ns is None:
        return True, False
    ns = rfc3339_ns(line.time)
    if ns is None:
        return True, False
    if until_ns is not None and ns > until_ns:
        return False, True
    return since_ns is None or ns >= since_ns, False


async def _close(stream: AsyncIterator[Any]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


async def print_logs(writer: LogWriter, lines: AsyncIterator[Any], *,
                     since_ns: int | None = None, until_ns: int | None = None) -> None:
    """Write the lines within [since, until]; stop at the first line past --until."""
    try:
        async for line in lines:
            show, past = _in_window(line, since_ns, until_ns)
            if past:
                break
            if show:
                writer.write(line)
    finally:
        await _close(lines)


CATCH_UP_TAIL = 1000


async def follow_until_exit(
    writer: LogWriter,
    open_logs: Callable[[bool, int | None], AsyncIterator[Any]],
    wait: Callable[[], Awaitable[int]],
    *,
    since_ns: int | None = None,
) -> int:
    """Stream a container's output until it exits; return its exit code.

    ``open_logs(follow, tail)`` opens the container's log. Once ``wait`` returns,
    following stops at once and the lines not yet written are read from the
    log's end: a log is in time order, so they are the ones after the last line
    written (counting lines that share its timestamp). Nothing is lost or
    doubled, and the exit is not delayed until the follower notices it.
    """
    last_ns = -1  # the timestamp of the last line written...
    at_last = 0  # ...and how many written lines have it
    # ...as written: the lines of one chunk the monitor read share it, so it is parsed
    # once a chunk, not once a line (a third of the CLI's CPU for 1M lines of `run`)
    last_time = ""

    def write(line: Any) -> None:
        nonlocal last_ns, at_last, last_time
        if line.time == last_time:
            at_last += 1
        else:
            ns = rfc3339_ns(line.time)
            if ns is None or ns == last_ns:
                at_last += 1
            else:
                last_ns, at_last = ns, 1
            last_time = line.time
        writer.write(line)

    async def follow() -> None:
        lines = open_logs(True, None)
        try:
            async for line in lines:
                if _in_window(line, since_ns, None)[0]:
                    write(line)
        finally:
            await _close(lines)

    async def read(tail: int | None) -> list[Any]:
        lines = open_logs(False, tail)
        try:
            return [line async for line in lines if _in_window(line, since_ns, None)[0]]
        finally:
            await _close(lines)

    follower = asyncio.create_task(follow())
    waiter = asyncio.ensure_future(wait())
    try:
        await asyncio.wait({follower, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if follower.done() and follower.exception() is not None:
            raise follower.exception()  # type: ignore[misc]
        code = await waiter
        if follower.done():
            return code
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        rest = await read(CATCH_UP_TAIL) if last_ns >= 0 else []
        first = rfc3339_ns(rest[0].time) if rest else None
        # The window must start before the last written line, or be the whole log.
        if last_ns < 0 or not (len(rest) < CATCH_UP_TAIL
                               or (first is not None and first < last_ns)):
            rest = await read(None)
        skip = at_last
        for line in rest:
            ns = rfc3339_ns(line.time)
            if ns is not None and ns < last_ns:
                continue
            if ns == last_ns and skip > 0:
                skip -= 1
                continue
            writer.write(line)
        return code
    finally:
        for task in (follower, waiter):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
