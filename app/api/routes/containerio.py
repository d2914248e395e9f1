"""Containers' streams: logs, attach (hijacked), resize, top, changes, stats,
export and the archive endpoints that ``docker cp`` uses."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import stat
from datetime import UTC, datetime
from typing import IO, Any, cast

from aiohttp import web

from app.api.backend import engine_of, parse_since, sessions_of
from app.api.bridges import BodyReader, ResponseWriter
from app.api.errors import ApiError
from app.api.params import flag, number
from app.api.routing import Routes
from app.api.sessions import DEFAULT_DETACH_KEYS, Stream, parse_detach_keys, pump
from app.api.streams import Taken, frame, hijack
from app.api.views import StatsCounters
from engine import InvalidState, NotFound

__all__ = ["routes"]

routes = Routes()

RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"


UNREADABLE_LOGS = "configured logging driver does not support reading"


def _stream_type(tty: bool) -> str:
    return RAW if tty else MULTIPLEXED


# -- logs -----------------------------------------------------------------------------
@routes.get("/containers/{ref}/logs")
async def container_logs(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    stdout, stderr = flag(request, "stdout"), flag(request, "stderr")
    if not (stdout or stderr):
        raise ApiError(400, "Bad parameters: you must choose at least one stream")
    if container.config.log_driver == "none":
        raise ApiError(501, UNREADABLE_LOGS)
    tail_text = request.query.get("tail", "all").strip()
    tail = None if tail_text in ("", "all") or tail_text.startswith("-") else number(
        request, "tail", 0)
    timestamps = flag(request, "timestamps")
    tty = container.config.tty
    for key in ("since", "until"):  # a bad one is a 400 before the stream starts
        parse_since(request.query.get(key))
    lines = engine.containers.logs(container.id, follow=flag(request, "follow"), tail=tail,
                        since=request.query.get("since") or None,
                        until=request.query.get("until") or None)
    response = web.StreamResponse(headers={"Content-Type": _stream_type(tty)})
    await response.prepare(request)
    async with contextlib.aclosing(lines):  # type: ignore[type-var]
        async for line in lines:
            if (line.stream == "stdout" and not stdout) or (
                    line.stream == "stderr" and not stderr):
                continue
            data = line.data if line.partial else line.data + b"\n"
            if timestamps:
                data = line.time.encode() + b" " + data
            await response.write(data if tty else frame(line.stream, data))
    await response.write_eof()
    return response


# -- attach ---------------------------------------------------------------------------
def _detach_keys(text: str, used: bool) -> bytes:
    """The sequence that detaches a client typing into a terminal (Docker's
    ctrl-p ctrl-q unless the client names its own)."""
    try:
        keys = parse_detach_keys(text) if text else DEFAULT_DETACH_KEYS
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return keys if used else b""


@routes.post("/containers/{ref}/attach")
async def attach_container(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    sessions = sessions_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    stdin, stdout, stderr = (flag(request, "stdin"), flag(request, "stdout"),
                             flag(request, "stderr"))
    if not flag(request, "stream") and not flag(request, "logs"):
        raise ApiError(400, "Bad parameters: you must choose at least one of stream or logs")
    keys = _detach_keys(request.query.get("detachKeys", ""), container.config.tty and stdin)
    session: Stream | None = None
    if flag(request, "stream") and container.state.status.is_active:
        session = await engine.containers.attach(container.id)
    stream = hijack(request, _stream_type(container.config.tty))
    waiting = contextlib.ExitStack()
    future: asyncio.Future[Stream] | None = None
    if flag(request, "stream") and session is None:  # before the logs: a start meanwhile
        future = waiting.enter_context(sessions.waiting(container.id))  # is not missed
    try:
        if flag(request, "logs"):
            await stream.head_taken()
            async with contextlib.aclosing(engine.containers.logs(container.id)) as lines:  # type: ignore[type-var]
                async for line in lines:
                    data = line.data if line.partial else line.data + b"\n"
                    if (line.stream == "stdout" and stdout) or (
                            line.stream == "stderr" and stderr):
                        await stream.write(data if container.config.tty
                                           else frame(line.stream, data))
        if future is not None:
            lost: asyncio.Future[Any] = asyncio.ensure_future(stream.lost.wait())
            try:
                await asyncio.wait([future, lost], return_when=asyncio.FIRST_COMPLETED)
            finally:
                lost.cancel()
            if not future.done():
                return Taken()
            if future.exception() is not None:
                return Taken()  # its start failed; the starter was told why
            session = future.result()
        if session is None:  # logs only
            return Taken()
        with sessions.holding(container.id, session):
            await pump(session, stream, stdin=stdin, stdout=stdout, stderr=stderr,
                       detach_keys=keys)
    except ConnectionError:
        pass  # the client left: its session closes, the container runs on
    finally:
        if future is not None and not future.done():
            future.cancel()
        elif session is None and future is not None and not future.cancelled() \
                and future.exception() is None:
            session = future.result()  # handed over as the client left: closed below
        waiting.close()
        if session is not None:
            session.close()
        stream.close()
    return Taken()


@routes.post("/containers/{ref}/resize")
async def resize_container(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    rows, cols = number(request, "h", 0), number(request, "w", 0)
    if not container.state.status.is_active:
        raise InvalidState(f"Container {container.id} is not running")
    if container.config.tty and not sessions_of(request).resize(container.id, rows, cols):
        session = await engine.containers.attach(container.id)
        try:
            session.resize(rows, cols)
            await asyncio.sleep(0)  # let the frame go out before the session closes
        finally:
            session.close()
    return web.Response(status=200)


# -- top, changes, stats ------------------------------------------------------------------
@routes.get("/containers/{ref}/top")
async def container_top(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    if not container.state.status.is_active:
        raise InvalidState(f"Container {container.id} is not running")
    table = await engine.containers.ps(container.id, request.query.get("ps_args", ""))
    return web.json_response({"Titles": table.titles, "Processes": table.processes})


_KINDS = {"C": 0, "A": 1, "D": 2}


@routes.get("/containers/{ref}/changes")
async def container_changes(request: web.Request) -> web.StreamResponse:
    changes = await engine_of(request).containers.changes(request.match_info["ref"])
    return web.json_response([{"Path": c.path, "Kind": _KINDS.get(c.kind, 0)}
                              for c in changes] or None)


@routes.get("/containers/{ref}/stats")
async def container_stats(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    counters = StatsCounters()
    if not flag(request, "stream", default=True):
        sample = await engine.stats.get(container.id)
        if not flag(request, "one-shot") and container.state.status.is_active:
            counters.render(sample)
            await asyncio.sleep(1.0)  # a second sample, so precpu_stats means something
            sample = await engine.stats.get(container.id)
        return web.json_response(counters.render(sample))
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    while True:
        try:
            sample = await engine.stats.get(container.id)
        except NotFound:
            break
        await response.write(json.dumps(counters.render(sample)).encode() + b"\n")
        await asyncio.sleep(1.0)
    await response.write_eof()
    return response


# -- export and archives ----------------------------------------------------------------
async def _tar_out(request: web.Request, response: web.StreamResponse, copy: Any) -> None:
    await response.prepare(request)
    await copy(ResponseWriter(response, asyncio.get_running_loop()))
    await response.write_eof()


@routes.get("/containers/{ref}/export")
async def export_container(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    response = web.StreamResponse(headers={"Content-Type": "application/x-tar"})
    await _tar_out(request, response, lambda out: engine.containers.export(container.id, out))
    return response


def _go_mode(entry: Any) -> int:
    """Go's os.FileMode bits, which docker cp reads from the path stat header."""
    kinds = {"dir": 1 << 31, "symlink": 1 << 27, "fifo": 1 << 25, "socket": 1 << 24,
             "char": (1 << 26) | (1 << 21), "block": 1 << 26}
    mode = kinds.get(entry.type, 0) | stat.S_IMODE(entry.mode) & 0o777
    if entry.mode & stat.S_ISUID:
        mode |= 1 << 23
    if entry.mode & stat.S_ISGID:
        mode |= 1 << 22
    if entry.mode & stat.S_ISVTX:
        mode |= 1 << 20
    return mode


def _path_stat(entry: Any) -> str:
    moment = datetime.fromtimestamp(entry.mtime_ns / 1e9, tz=UTC)
    data = {"name": entry.name, "size": entry.size, "mode": _go_mode(entry),
            "mtime": moment.isoformat().replace("+00:00", "Z"),
            "linkTarget": entry.link_target}
    return base64.b64encode(json.dumps(data).encode()).decode()


def _archive_path(request: web.Request) -> str:
    path = request.query.get("path", "")
    if not path:
        raise ApiError(400, "Bad parameter: path cannot be empty")
    return path


async def _stat(request: web.Request) -> tuple[str, Any]:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    path = _archive_path(request)
    try:
        entry = await engine.containers.stat_file(container.id, path)
    except NotFound:
        raise NotFound(f"Could not find the file {path} in container "
                              f"{container.name}") from None
    return container.id, entry


@routes.head("/containers/{ref}/archive")
async def stat_archive(request: web.Request) -> web.StreamResponse:
    _, entry = await _stat(request)
    return web.Response(status=200, headers={"X-Docker-Container-Path-Stat": _path_stat(entry)})


@routes.get("/containers/{ref}/archive")
async def get_archive(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container_id, entry = await _stat(request)
    response = web.StreamResponse(headers={"Content-Type": "application/x-tar",
                                           "X-Docker-Container-Path-Stat": _path_stat(entry)})
    path = _archive_path(request)
    await _tar_out(request, response,
                   lambda out: engine.containers.get_archive(container_id, path, out))
    return response


@routes.put("/containers/{ref}/archive")
async def put_archive(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    path = _archive_path(request)
    source = BodyReader(request.content, asyncio.get_running_loop())
    await engine.containers.put_archive(container.id, cast(IO[bytes], source), path)
    return web.Response(status=200)

