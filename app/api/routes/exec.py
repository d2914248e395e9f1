"""Exec: create an instance, start it (hijacked, or detached), resize it, inspect it.

Instances live in the server (:class:`app.api.sessions.Sessions`) from create to
the client's last look, as dockerd keeps them; the exit code is recorded
before the output's end reaches the client, so an inspect right after it
already has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from app.api.backend import engine_of, sessions_of
from app.api.bodytypes import check_body
from app.api.createbody import console_size
from app.api.errors import ApiError
from app.api.params import json_body, number
from app.api.routing import Routes
from app.api.sessions import DEFAULT_DETACH_KEYS, ExecInstance, parse_detach_keys, pump
from app.api.streams import Taken, frame, hijack
from engine import Conflict, ContainerStartError, NotFound, SkiffError

__all__ = ["routes"]

log = logging.getLogger("skiff.api")

routes = Routes()

#: Finished instances kept for inspection; older ones are forgotten first.
KEEP_FINISHED = 256


def _instance(request: web.Request) -> ExecInstance:
    exec_id = request.match_info["exec_id"]
    found = sessions_of(request).execs.get(exec_id)
    if found is None:
        raise NotFound(f"No such exec instance: {exec_id}")
    return found


def _forget_old(request: web.Request) -> None:
    execs = sessions_of(request).execs
    finished = [e for e in execs.values() if e.started and not e.running]
    for old in finished[:max(0, len(finished) - KEEP_FINISHED)]:
        execs.pop(old.id, None)


@routes.post("/containers/{ref}/exec")
async def create_exec(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    check_body(body, "ExecOptions")
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    status = container.state.status
    if status.value == "paused":
        raise Conflict(f"Container {container.id} is paused, unpause the container "
                              "before exec")
    if not status.is_active:
        raise Conflict(f"Container {container.id} is not running")
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not cmd or not all(isinstance(c, str) for c in cmd):
        raise ApiError(400, "No exec command specified")
    if body.get("Privileged"):
        raise ApiError(400, "Privileged is not supported by Skiff: an exec gets the "
                            "container's own capabilities")
    _forget_old(request)
    instance = sessions_of(request).new_exec(
        await engine.containers.exec_create(container.id, list(cmd)),
        container_id=container.id, cmd=list(cmd), tty=bool(body.get("Tty")),
        stdin=bool(body.get("AttachStdin")), stdout=bool(body.get("AttachStdout", True)),
        stderr=bool(body.get("AttachStderr", True)),
        env=[str(e) for e in body.get("Env") or []], user=str(body.get("User") or ""),
        workdir=str(body.get("WorkingDir") or ""),
        # Go matches JSON names in any case: docker-py sends "detachKeys"
        detach_keys=str(body.get("DetachKeys") or body.get("detachKeys") or ""),
        console=console_size(body.get("ConsoleSize")))
    return web.json_response({"Id": instance.id}, status=201)


async def _finish(instance: ExecInstance) -> None:
    """The exit code, once the process ended, then the session's descriptors closed."""
    try:
        instance.exit_code = await instance.session.wait()
    finally:
        instance.running = False
        instance.session.close()


async def _drain(instance: ExecInstance) -> None:
    """A detached exec: its output goes nowhere, its exit code is kept."""
    with contextlib.suppress(Exception):
        while (await instance.session.read())[0]:
            pass
    await _finish(instance)


@routes.post("/exec/{exec_id}/start")
async def start_exec(request: web.Request) -> web.StreamResponse:
    body = await json_body(request, required=False)
    check_body(body, "ExecStartCheck")
    instance = _instance(request)
    if instance.started:
        raise Conflict(f"Exec command {instance.id} is already running"
                              if instance.running else
                              f"Exec command {instance.id} has already run")
    # As dockerd: the process gets the TTY asked at create; start's Tty says only
    # whether the answer is raw or framed.
    tty, raw = instance.tty, bool(body.get("Tty"))
    console = console_size(body["ConsoleSize"]) if body.get("ConsoleSize") else instance.console
    rows, cols = (min(n, 65535) for n in console)  # a winsize holds no more
    engine = engine_of(request)
    container = await engine.containers.get(instance.container_id)
    if not container.state.status.is_active or container.state.status.value == "paused":
        raise Conflict(f"Container {container.id} is not running")
    try:
        keys = parse_detach_keys(instance.detach_keys) if instance.detach_keys \
            else DEFAULT_DETACH_KEYS
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    keys = keys if tty and instance.stdin else b""
    instance.started = True
    if body.get("Detach"):
        await _start(request, instance, tty, rows, cols)
        if instance.session is not None:
            task = asyncio.get_running_loop().create_task(_drain(instance))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
        return web.Response(status=200)
    # The head goes out before the process starts: a client that reads the head
    # through a buffered reader (docker-py) would lose output sent along with it.
    stream = hijack(request, "application/vnd.docker.raw-stream" if raw
                    else "application/vnd.docker.multiplexed-stream")
    try:
        try:
            await _start(request, instance, tty, rows, cols)
        except SkiffError as exc:
            message = f"{exc}\r\n".encode()
            await stream.write(message if raw else frame("stderr", message))
        else:
            if instance.session is None:
                message = f"OCI runtime exec failed: {instance.failure}\r\n".encode()
                await stream.write(message if raw else frame("stderr", message))
            else:
                ended = False
                try:
                    ended = await pump(instance.session, stream, stdin=instance.stdin,
                                       stdout=instance.stdout, stderr=instance.stderr,
                                       detach_keys=keys, raw=raw)
                finally:
                    if ended:
                        await _finish(instance)
                    else:  # the client left: its process loses its streams, as in dockerd
                        instance.running = False
                        instance.session.close()
    except ConnectionError:
        pass
    finally:
        stream.close()
    return Taken()


async def _start(request: web.Request, instance: ExecInstance, tty: bool, rows: int,
                 cols: int) -> None:
    """The process started, or its exit code (126, 127) when it cannot be run."""
    try:
        instance.session = await engine_of(request).containers.exec(
            instance.container_id, instance.cmd, tty=tty, env=instance.env,
            user=instance.user, workdir=instance.workdir, rows=rows, cols=cols,
            exec_id=instance.id)
        instance.running = True
    except ContainerStartError as exc:
        instance.exit_code, instance.failure = exc.exit_code, str(exc)
    except SkiffError:
        instance.exit_code = 126
        raise


@routes.post("/exec/{exec_id}/resize")
async def resize_exec(request: web.Request) -> web.StreamResponse:
    instance = _instance(request)
    rows, cols = number(request, "h", 0), number(request, "w", 0)
    if instance.session is None:
        instance.console = (rows, cols)  # before start: the size it starts with
    elif instance.running:
        instance.session.resize(rows, cols)
    return web.Response(status=200)


@routes.get("/exec/{exec_id}/json")
async def inspect_exec(request: web.Request) -> web.StreamResponse:
    return web.json_response(_instance(request).inspect())
