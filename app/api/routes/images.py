"""Images: list, pull and import, inspect, history, push, tag, remove, search,
save and load, prune (the paths the docker CLI, docker-py and compose use).

Thin handlers: each reads the request, makes the engine call, and renders the
answer in dockerd's shape (app/api/imagejson.py); pull, push, load and import
stream dockerd's JSON progress (app/api/progress.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from app.api import params
from app.api.backend import engine_of
from app.api.errors import ApiError
from app.api.filters import Filters, prune_filter
from app.api.imagejson import IMAGE_FILTERS, filter_images, history_json, image_summary
from app.api.progress import ProgressStream, PullMessages, PushMessages, error_message
from app.api.registryauth import credentials_for
from app.api.routing import Routes
from app.api.versions import parse_version
from engine import ImageNotFound, InvalidArgument, Reference, SkiffError

__all__ = ["routes"]

routes = Routes()

CHUNK = 1 << 20


def _version(request: web.Request) -> tuple[int, int]:
    text = request.match_info.get("api_version", "")
    return parse_version(text[1:]) if text else (99, 0)


@routes.get("/images/json")
async def list_images(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    found = Filters(params.filters(request, IMAGE_FILTERS))
    images = await engine.images.list(all=params.flag(request, "all"))
    by_ref = {}
    for ref in [*found.get("before"), *found.get("since")]:
        by_ref[ref] = await engine.images.get(ref)
    kept = filter_images(images, found, by_ref.__getitem__)
    kept.sort(key=lambda image: image.created, reverse=True)
    old = _version(request) < (1, 44)
    return web.json_response([image_summary(i, virtual_size=old) for i in kept])


@routes.post("/images/create")
async def create_image(request: web.Request) -> web.StreamResponse:
    """Pull (``fromImage``) or import a filesystem tarball (``fromSrc``)."""
    if request.query.get("fromSrc"):
        return await _import(request)
    name = request.query.get("fromImage", "").strip()
    if not name:
        raise ApiError(400, "either fromImage or fromSrc must be given")
    tag = request.query.get("tag", "").strip()
    ref = Reference.parse(name)
    if tag:
        ref = ref.with_digest(tag) if tag.startswith("sha256:") else ref.with_tag(tag)
    engine = engine_of(request)
    wanted = ref.canonical
    try:
        before = (await engine.images.get(wanted)).id
    except ImageNotFound:
        before = ""
    stream = ProgressStream(request)
    messages = PullMessages()
    label = ref.digest if ref.digest else ref.tag
    # As dockerd: the header once the registry answered (its layers come), so that a
    # registry that cannot be reached or has no such image is an HTTP error
    header = [{"status": f"Pulling from {ref.repository}", "id": label}]
    platform = request.query.get("platform", "").strip() or None
    credentials = credentials_for(request, ref.registry)

    async def pull(report: Any) -> Any:
        def progress(event: Any) -> None:
            while header:
                report(header.pop())
            for message in messages(event):
                report(message)

        return await engine.images.pull(wanted, platform=platform, progress=progress,
                                 credentials=credentials)

    try:
        image = await stream.run(pull)
    except SkiffError as exc:
        if not stream.started:  # nothing sent yet: the pull's header waits in the queue
            raise
        return await stream.finish(exc)
    for message in header:  # a pull that had nothing to report
        await stream.send(message)
    if image.manifest_digest:
        await stream.send({"status": f"Digest: {image.manifest_digest}"})
    news = "Image is up to date" if before == image.id else "Downloaded newer image"
    await stream.send({"status": f"Status: {news} for {ref.familiar}"})
    return await stream.finish()


async def _import(request: web.Request) -> web.StreamResponse:
    source = request.query["fromSrc"]
    if source != "-":
        raise ApiError(400, "importing from a URL is not supported: send the tarball as the "
                            "request body (fromSrc=-)")
    repo = request.query.get("repo", "").strip()
    tag = request.query.get("tag", "").strip()
    reference = ""
    if repo:
        reference = Reference.parse(repo).with_tag(tag).canonical if tag else repo
    engine = engine_of(request)
    with tempfile.TemporaryDirectory(prefix="skiff-api-import-") as tmp:
        tarball = Path(tmp) / "import.tar"
        await _save_body(request, tarball)
        image = await engine.images.import_(
            tarball, reference, changes=request.query.getall("changes", []),
            message=request.query.get("message", ""),
            platform=request.query.get("platform", "").strip() or None)
    stream = ProgressStream(request)
    await stream.send({"status": image.id})
    return await stream.finish()


async def _save_body(request: web.Request, path: Path) -> int:
    size = 0
    with path.open("wb") as sink:
        async for chunk in request.content.iter_chunked(CHUNK):
            sink.write(chunk)
            size += len(chunk)
    return size


@routes.get("/images/{name:.+}/json")
async def inspect_image(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    image = await engine.images.inspect(request.match_info["name"])
    return web.json_response(image.docker_json())


@routes.get("/images/{name:.+}/history")
async def image_history(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    return web.json_response(history_json(await engine.images.history(request.match_info["name"])))


@routes.post("/images/{name:.+}/push")
async def push_image(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    tag = request.query.get("tag", "").strip()
    ref = Reference.parse(name)
    if tag:
        ref = ref.with_tag(tag)
    engine = engine_of(request)
    await engine.images.get(ref.canonical)  # No such image: … before anything is streamed
    credentials = credentials_for(request, ref.registry)  # a malformed one: refused now
    stream = ProgressStream(request)
    messages = PushMessages()
    await stream.send({"status": f"The push refers to repository [{ref.familiar_name}]"})

    async def push(report: Any) -> str:
        def progress(event: Any) -> None:
            for message in messages(event):
                report(message)

        digest: str = await engine.images.push(ref.canonical, progress=progress,
                                        credentials=credentials)
        return digest

    try:
        digest = await stream.run(push)
    except SkiffError as exc:
        return await stream.finish(exc)
    await stream.send({"status": f"{ref.tag}: digest: {digest}"})
    await stream.send({"progressDetail": {}, "aux": {"Tag": ref.tag, "Digest": digest}})
    return await stream.finish()


@routes.post("/images/{name:.+}/tag")
async def tag_image(request: web.Request) -> web.StreamResponse:
    repo = request.query.get("repo", "").strip()
    if not repo:
        raise ApiError(400, "repository name must have at least one component")
    tag = request.query.get("tag", "").strip()
    target = Reference.parse(repo).with_tag(tag).canonical if tag else repo
    await engine_of(request).images.tag(request.match_info["name"], target)
    return web.Response(status=201)


@routes.delete("/images/{name:.+}")
async def remove_image(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    lines = await engine.images.remove(request.match_info["name"],
                                      force=params.flag(request, "force"))
    return web.json_response([{kind: name} for kind, name in lines])


@routes.get("/images/search")
async def search_images(request: web.Request) -> web.StreamResponse:
    term = request.query.get("term", "").strip()
    if not term:
        raise ApiError(400, "the search term must not be empty")
    found = Filters(params.filters(request, ("is-official", "is-automated", "stars")))
    limit = params.number(request, "limit", 25)
    results = await engine_of(request).images.search(term, limit)
    official = found.boolean("is-official")
    stars = max((int(v) for v in found.get("stars") if v.isdigit()), default=0)
    return web.json_response([
        {"name": r.name, "description": r.description, "star_count": r.stars,
         "is_official": r.official, "is_automated": False}
        for r in results
        if (official is None or r.official == official) and r.stars >= stars
        and found.boolean("is-automated") is not True])


@routes.get("/images/get")
async def save_images(request: web.Request) -> web.StreamResponse:
    names = request.query.getall("names", [])
    if not names:
        raise ApiError(400, "no image names given: add names=IMAGE to the query")
    return await _send_archive(request, names)


@routes.get("/images/{name:.+}/get")
async def save_image(request: web.Request) -> web.StreamResponse:
    return await _send_archive(request, [request.match_info["name"]])


async def _send_archive(request: web.Request, names: list[str]) -> web.StreamResponse:
    engine = engine_of(request)
    with tempfile.TemporaryDirectory(prefix="skiff-api-save-") as tmp:
        archive = Path(tmp) / "images.tar"
        await engine.images.save(names, archive)
        response = web.StreamResponse(headers={"Content-Type": "application/x-tar"})
        response.content_length = archive.stat().st_size
        await response.prepare(request)
        with archive.open("rb") as source:
            while chunk := source.read(CHUNK):
                await response.write(chunk)
        await response.write_eof()
        return response


@routes.post("/images/load")
async def load_images(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    # quiet or not, what is sent is the result lines: the archive is read whole first
    with tempfile.TemporaryDirectory(prefix="skiff-api-load-") as tmp:
        archive = Path(tmp) / "images.tar"
        if not await _save_body(request, archive):
            raise ApiError(400, "requested load from stdin, but stdin is empty")
        try:
            images = await engine.images.load(archive)
        except InvalidArgument as exc:  # dockerd says so in the stream (ImageLoadError)
            stream = ProgressStream(request)
            await stream.send(error_message(str(exc)))
            return await stream.finish()
    stream = ProgressStream(request)
    for image in images:
        lines = [f"Loaded image: {Reference.parse(t).familiar}" for t in image.repo_tags] \
            or [f"Loaded image ID: {image.id}"]
        for line in lines:
            await stream.send({"stream": line + "\n"})
    return await stream.finish()


@routes.post("/images/prune")
async def prune_images(request: web.Request) -> web.StreamResponse:
    found = Filters(params.filters(request, ("dangling", "label", "label!", "until")))
    dangling = found.boolean("dangling")
    pruned = await engine_of(request).images.prune(all=dangling is False,
                                                   chosen=prune_filter(found))
    deleted = []
    for line in pruned.deleted:
        kind, _, name = line.partition(": ")
        deleted.append({kind.capitalize(): name})
    return web.json_response({"ImagesDeleted": deleted or None,
                              "SpaceReclaimed": pruned.reclaimed})
