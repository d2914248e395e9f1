"""The aiohttp application and where it listens.

One middleware does what dockerd's does for every request: check the version
prefix, and turn any error into ``{"message": ...}`` with Docker's status
(an unknown path, or a known one with the wrong method, is dockerd's 404
"page not found"); and, once any request but a GET or HEAD ends, tell the kept
listings (app/api/answers.py) that something may have changed. Every answer
carries ``Api-Version``, ``Server`` and ``OSType``. A Unix socket is made 0600
before anyone can connect; TCP is served on loopback addresses only, since
there is no TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from app.api import versions
from app.api.answers import Answers
from app.api.backend import ANSWERS, ENGINE, KEEPER, SESSIONS, Engine
from app.api.errors import ApiError, error_response, status_of
from app.api.keeper import Keeper
from app.api.routes import MODULES
from app.api.routing import install
from app.api.sessions import Sessions
from app.api.streams import Taken
from engine import SkiffError

__all__ = ["Address", "ListenError", "build_app", "default_address", "parse_host", "serve"]

log = logging.getLogger("skiff.api")

#: Bodies read whole (JSON) stay below this; archives and images stream instead.
MAX_BODY = 8 << 20
#: Connections waiting to be accepted: a burst of clients (compose starting a
#: project, a CI fan-out) queues instead of being refused; dockerd's is SOMAXCONN.
BACKLOG = 1024
#: Seconds requests in flight get to finish when the server stops.
SHUTDOWN_GRACE = 2.0


class ListenError(Exception):
    """The server cannot listen where it was asked to; str() says why and what to do."""


@dataclass(frozen=True)
class Address:
    scheme: str  # unix | tcp
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


def default_address() -> Address:
    """``/run/skiff/docker.sock`` for root, ``$XDG_RUNTIME_DIR/skiff/docker.sock`` otherwise."""
    if os.geteuid() == 0:
        return Address("unix", "/run/skiff/docker.sock")
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    if not os.path.isdir(runtime):
        raise ListenError(f"no runtime directory for this user ({runtime} does not exist): "
                          "choose a socket with --host unix:///PATH")
    return Address("unix", f"{runtime}/skiff/docker.sock")


def parse_host(text: str) -> Address:
    """``unix:///PATH`` or ``tcp://127.0.0.1:PORT`` (loopback only: we have no TLS)."""
    if text.startswith("unix://"):
        path = text[len("unix://"):]
        if not path.startswith("/"):
            raise ListenError(f"invalid --host {text!r}: use unix:///ABSOLUTE/PATH")
        return Address("unix", path)
    if text.startswith("tcp://"):
        rest = text[len("tcp://"):].rstrip("/")
        host, sep, port_text = rest.rpartition(":")
        host = host.strip("[]")
        if not sep or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ListenError(f"invalid --host {text!r}: use tcp://127.0.0.1:PORT")
        if not _loopback(host):
            raise ListenError(f"refusing to serve on {text}: without TLS anyone who reaches "
                              "that address could run containers as you; use 127.0.0.1, ::1 "
                              "or a unix socket")
        return Address("tcp", host=host, port=int(port_text))
    raise ListenError(f"invalid --host {text!r}: use unix:///PATH or tcp://127.0.0.1:PORT")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@web.middleware
async def _docker_middleware(request: web.Request,
                             handler: Callable[[web.Request], object]) -> web.StreamResponse:
    version = request.match_info.get("api_version")
    if version:
        problem = versions.check_version(version[1:])
        if problem:
            return error_response(400, problem)
    try:
        response = await handler(request)  # type: ignore[misc]
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            return error_response(404, "page not found")
        if exc.status == 413:
            return error_response(413, f"request body too large (over {MAX_BODY} bytes)")
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.text or exc.reason)
    except (ApiError, SkiffError) as exc:
        return error_response(status_of(exc), str(exc))
    except ConnectionError:
        return Taken()  # the client went away: nothing to answer
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, f"internal error in skiff serve: {exc}")
    finally:
        if request.method not in ("GET", "HEAD"):  # it may have changed something
            request.app[ANSWERS].changed()
    assert isinstance(response, web.StreamResponse)
    return response


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    for key, value in versions.server_headers().items():
        response.headers[key] = value


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    """The keeper follows the engine while we serve; sessions end with the server."""
    keeper = app[KEEPER]
    keeper.start()
    app[ANSWERS].open(app[ENGINE])
    yield
    app[ANSWERS].close()
    await keeper.stop()
    app[SESSIONS].close_all()


def build_app(engine: Engine) -> web.Application:
    app = web.Application(middlewares=[_docker_middleware], client_max_size=MAX_BODY)
    app[ENGINE] = engine
    app[SESSIONS] = Sessions()
    app[KEEPER] = Keeper(engine)
    app[ANSWERS] = Answers()
    app[KEEPER].on_destroy.append(app[SESSIONS].forget_container)
    app.cleanup_ctx.append(_lifetime)
    app.on_response_prepare.append(_headers)
    install(app, MODULES)
    return app


def _unix_socket(path: Path) -> socket.socket:
    """Bound with umask 0177, so the socket is 0600 from its first moment."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # a stale socket of a server that is gone
        else:
            raise ListenError(f"another server already listens on {path}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return sock


async def serve(engine: Engine, address: Address, *,
                ready: Callable[[Address], None] | None = None,
                stop: asyncio.Event | None = None,
                listening: socket.socket | None = None) -> None:
    """Serve until ``stop`` is set (or SIGINT/SIGTERM when it is not given).

    ``listening`` is a socket someone else bound (systemd's socket activation,
    app/api/activation.py): served as it is, and its file left to its owner."""
    app = build_app(engine)
    # A client that hangs up cancels its handler (a wait, a log follow, a stats
    # stream), as dockerd cancels the request's context; at shutdown, requests in
    # flight get a moment, not a minute.
    runner = web.AppRunner(app, access_log=None, handle_signals=False,
                           handler_cancellation=True, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    sock: socket.socket | None = None
    try:
        if listening is not None:
            site: web.BaseSite = web.SockSite(runner, listening, backlog=BACKLOG)
        elif address.scheme == "unix":
            sock = _unix_socket(Path(address.path))
            site = web.SockSite(runner, sock, backlog=BACKLOG)
        else:
            site = web.TCPSite(runner, address.host, address.port, backlog=BACKLOG)
        await site.start()
        if ready is not None:
            ready(address)
        if stop is None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        if sock is not None:
            with contextlib.suppress(OSError):
                os.unlink(address.path)
