"""``POST /build``: the classic builder's protocol (``docker build`` without BuildKit,
docker-py's ``images.build``, ``docker compose build``); ``POST /build/prune``
(``docker builder prune``, docker-py's ``prune_builds``); and ``POST /commit``.

The body is the context as a tar (plain or compressed), or ``remote`` names a git
repository or a URL (engine/build/remote.py); the query says ``t``
(repeatable), ``dockerfile``, ``buildargs`` and ``labels`` (JSON objects),
``target``, ``nocache``, ``pull``, ``networkmode``, ``extrahosts``, ``cachefrom``,
``platform`` and ``q``. The
answer streams dockerd's JSON lines: ``{"stream": "Step 1/3 : FROM ..."}`` as the
build goes (the same text ``skiff build`` prints), ``{"aux": {"ID": "sha256:…"}}``
for the image, and a failure as ``errorDetail`` (with a RUN's exit code).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from app.api import params
from app.api.backend import engine_of
from app.api.errors import ApiError
from app.api.progress import ProgressStream
from app.api.routing import Routes
from engine import SkiffError

__all__ = ["routes"]

routes = Routes()

CHUNK = 1 << 20
_RED, _PLAIN = "\x1b[91m", "\x1b[0m"


def _json_map(request: web.Request, name: str) -> dict[str, str]:
    text = request.query.get(name, "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(400, f"invalid {name}: not a JSON object") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"invalid {name}: not a JSON object")
    # docker-py sends {"K": null} for an argument without a value: it is left out.
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _json_list(request: web.Request, name: str) -> list[str]:
    text = request.query.get(name, "").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(400, f"invalid {name}: not a JSON list") from None
    if not isinstance(value, list):
        raise ApiError(400, f"invalid {name}: not a JSON list")
    return [str(v) for v in value]


@routes.post("/build")
async def build(request: web.Request) -> web.StreamResponse:
    from engine import BuildOptions, BuildStepFailed, open_context, render

    if request.query.get("version", "1") == "2":
        raise ApiError(400, "BuildKit is not supported by skiff serve: build with "
                            "DOCKER_BUILDKIT=0 (the classic builder's protocol)")
    remote = request.query.get("remote", "").strip()
    quiet = params.flag(request, "q")
    network = request.query.get("networkmode", "").strip()
    engine = engine_of(request)
    if network not in ("", "default", "bridge", "none", "host"):  # a user network, by id too
        network = (await engine.networks.inspect(network)).name
    options = BuildOptions(
        dockerfile=request.query.get("dockerfile", "") or "Dockerfile",
        tags=tuple(t for t in request.query.getall("t", []) if t),
        build_args=_json_map(request, "buildargs"),
        target=request.query.get("target", ""),
        no_cache=params.flag(request, "nocache"),
        pull=params.flag(request, "pull"),
        labels=_json_map(request, "labels"),
        network="default" if network in ("", "default", "bridge") else network,
        platform=request.query.get("platform", "").strip(),
        cache_from=tuple(_json_list(request, "cachefrom")),
        extra_hosts=tuple(host for value in request.query.getall("extrahosts", [])
                          for host in value.split(",") if host))
    with tempfile.TemporaryDirectory(prefix="skiff-api-build-") as tmp:
        body = Path(tmp) / "context.tar"
        with body.open("wb") as sink:
            async for chunk in request.content.iter_chunked(CHUNK):
                sink.write(chunk)
        loop = asyncio.get_running_loop()
        if remote:  # a git repository or a URL, fetched by us as dockerd does
            context = await loop.run_in_executor(None, open_context, remote)
        elif body.stat().st_size == 0:
            raise ApiError(400, "the build context (a tar) must be the request body")
        else:
            context = await loop.run_in_executor(None, open_context, body)
        stream = ProgressStream(request)
        try:
            async def job(report: Any) -> Any:
                def progress(event: Any) -> None:
                    if quiet:
                        return
                    if event.kind == "built":
                        report({"aux": {"ID": event.image_id}})
                    text = render(event)
                    if text and event.kind == "output" and event.stream == "stderr":
                        text = f"{_RED}{text}{_PLAIN}"  # as the classic builder marks it
                    if text:
                        report({"stream": text})

                return await engine.images.build(context, options, progress)

            try:
                result = await stream.run(job)
            except BuildStepFailed as exc:
                return await _failed(stream, str(exc), exc.code)
            except SkiffError as exc:
                if not stream.started:  # nothing sent yet: an HTTP error, as dockerd's
                    raise
                return await _failed(stream, str(exc), 1)
        finally:
            context.close()
    if quiet:
        await stream.send({"stream": f"{result.image_id}\n"})
        await stream.send({"aux": {"ID": result.image_id}})
    return await stream.finish()


@routes.post("/build/prune")
async def prune_build_cache(request: web.Request) -> web.StreamResponse:
    """``all``, ``filters`` (``until``, or its other name ``unused-for``), ``keep-storage``
    (``reserved-space``) →
    ``{"CachesDeleted": [...], "SpaceReclaimed": N}``."""
    from app.api.filters import Filters, prune_filter

    for limit in ("max-used-space", "min-free-space"):
        if params.optional_number(request, limit):
            raise ApiError(400, f"{limit} is not supported by skiff serve: prune without it")
    # keep-storage, or its newer name reserved-space: what is left may be that big
    keep = params.optional_number(request, "reserved-space") or \
        params.optional_number(request, "keep-storage") or 0
    found = params.filters(request, ("until", "unused-for"))
    found = {"until": found.get("until", []) + found.get("unused-for", [])}
    pruned = await engine_of(request).builder.prune(all=params.flag(request, "all"),
                                                    chosen=prune_filter(Filters(found)),
                                                    keep_storage=keep)
    return web.json_response({"CachesDeleted": pruned.deleted or None,
                              "SpaceReclaimed": pruned.reclaimed})


@routes.post("/commit")
async def commit(request: web.Request) -> web.StreamResponse:
    """docker commit: ``container``, ``repo``, ``tag``, ``comment``, ``author``, ``pause``,
    ``changes`` (repeatable Dockerfile instructions) → ``{"Id": ...}``."""
    from engine import Reference

    container = request.query.get("container", "").strip()
    if not container:
        raise ApiError(400, "a container is required (container=NAME|ID)")
    repo = request.query.get("repo", "").strip()
    tag = request.query.get("tag", "").strip()
    reference = ""
    if repo:
        reference = Reference.parse(repo).with_tag(tag).canonical if tag else repo
    changes = [line for value in request.query.getall("changes", [])
               for line in value.splitlines() if line.strip()]
    image = await engine_of(request).containers.commit(
        container, reference, changes=changes, message=request.query.get("comment", ""),
        author=request.query.get("author", ""), pause=params.flag(request, "pause", True))
    return web.json_response({"Id": image.id}, status=201)


async def _failed(stream: ProgressStream, message: str, code: int) -> web.StreamResponse:
    await stream.send({"errorDetail": {"code": code, "message": message}, "error": message})
    return await stream.finish()
