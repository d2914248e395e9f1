"""Containers: list, create, inspect, the lifecycle verbs, wait, remove, prune.

References are what the engine resolves: a full ID, a unique ID prefix or a
name. Streams (logs, attach, stats, archives) live in :mod:`containerio`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import replace
from typing import Any

from aiohttp import web

from app.api.backend import (
    RestartPolicy,
    answers_of,
    engine_of,
    keeper_of,
    sessions_of,
)
from app.api.bodytypes import check_body
from app.api.createbody import container_config, extra_endpoints
from app.api.errors import ApiError
from app.api.params import filters, flag, json_body, number, optional_number
from app.api.routing import Routes
from app.api.versions import parse_version
from app.api.views import container_ports, container_summary, unix_seconds
from engine import Conflict, InvalidState, NotFound

__all__ = ["routes"]

routes = Routes()

LIST_FILTERS = ("id", "name", "label", "status", "exited", "ancestor", "before", "since",
                "network", "volume", "health", "is-task", "publish", "expose")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def _no_content() -> web.Response:
    return web.Response(status=204)


def _not_modified() -> web.Response:
    return web.Response(status=304)


# -- list and inspect ---------------------------------------------------------------
def _name_match(pattern: str, name: str) -> bool:
    try:
        regex = re.compile(pattern)
    except re.error:
        return pattern in name
    return bool(regex.search(name) or regex.search("/" + name))


def _label_match(spec: str, labels: dict[str, str]) -> bool:
    key, eq, value = spec.partition("=")
    return key in labels and (not eq or labels[key] == value)


def _matches(summary: dict[str, Any], container: Any, wanted: dict[str, list[str]]) -> bool:
    state, config = container.state, container.config

    def any_of(key: str, test: Any) -> bool:
        return key not in wanted or any(test(v) for v in wanted[key])

    def all_of(key: str, test: Any) -> bool:
        return key not in wanted or all(test(v) for v in wanted[key])

    labels = summary["Labels"]
    return (any_of("id", lambda v: container.id.startswith(v))
            and any_of("name", lambda v: _name_match(v, container.name))
            and any_of("status", lambda v: state.status.value == v)
            and all_of("label", lambda v: _label_match(v, labels))
            and any_of("exited", lambda v: state.status.value == "exited"
                       and str(state.exit_code) == v)
            and any_of("ancestor", lambda v: v in (config.image, config.image_id)
                       or config.image_id.removeprefix("sha256:").startswith(
                           v.removeprefix("sha256:")))
            and any_of("network", lambda v: v in summary["NetworkSettings"]["Networks"])
            and any_of("volume", lambda v: any(v in (m.get("Name"), m.get("Source"),
                                                     m.get("Destination"))
                                               for m in summary["Mounts"]))
            and any_of("health", lambda v: v == (state.health.status if state.health
                                                 else "none"))
            and any_of("is-task", lambda v: v in ("false", "0"))
            and any_of("publish", lambda v: any(str(p.get("PublicPort")) == v.split("/")[0]
                                                for p in summary["Ports"]))
            and any_of("expose", lambda v: any(str(p.get("PrivatePort")) == v.split("/")[0]
                                               for p in summary["Ports"])))


async def _inspect_running(engine: Any, containers: list[Any]) -> dict[str, dict[str, Any]]:
    """Each running container's inspect, for its live network settings (compose compares
    them): the helper is asked once for all; one removed meanwhile is left out."""
    running = [c.id for c in containers if c.state.running]
    if not running:
        return {}
    try:
        return {found.id: found.docker_json()
                for found in await engine.containers.inspect_many(running)}
    except NotFound:  # one went meanwhile: each alone
        inspected = {}
        for container_id in running:
            with contextlib.suppress(NotFound):
                inspected[container_id] = (
                    await engine.containers.inspect(container_id)).docker_json()
        return inspected


def _live_settings(inspected: dict[str, Any], container: Any, summary: dict[str, Any]) -> None:
    settings = inspected.get("NetworkSettings") or {}
    summary["Ports"] = container_ports(settings.get("Ports") or {}, container.config)
    summary["NetworkSettings"] = {"Networks": settings.get("Networks") or {}}
    summary["Mounts"] = inspected.get("Mounts") or []


def _check_list_filters(wanted: dict[str, list[str]]) -> None:
    for value in wanted.get("status", []):
        if value not in STATUSES:
            raise ApiError(400, f"invalid filter 'status={value}'")
    for value in wanted.get("exited", []):
        if not value.lstrip("-").isdigit():
            raise ApiError(400, f"invalid filter 'exited={value}'")


@routes.get("/containers/json")
async def list_containers(request: web.Request) -> web.StreamResponse:
    if flag(request, "size"):  # sizes change with every write: measured each time
        return web.Response(body=await _listing(request), content_type="application/json")
    key = f"{request.match_info.get('api_version', '')} {request.query_string}"
    body = await answers_of(request).get(key, lambda: _listing(request))
    return web.Response(body=body, content_type="application/json")


async def _listing(request: web.Request) -> bytes:
    """The answer to ``GET /containers/json``, encoded."""
    engine = engine_of(request)
    wanted = filters(request, LIST_FILTERS)
    _check_list_filters(wanted)
    limit = number(request, "limit", -1)
    everything = flag(request, "all") or limit > 0 or any(
        k in wanted for k in ("status", "exited", "before", "since"))
    containers = await engine.containers.list(all=everything)
    containers.sort(key=lambda c: c.created, reverse=True)
    for key, older in (("before", True), ("since", False)):
        for ref in wanted.get(key, []):
            pivot = await engine.containers.get(ref)
            containers = [c for c in containers
                          if (c.created < pivot.created if older else c.created > pivot.created)]
    sizes = (await engine.containers.sizes([c.id for c in containers])
             if flag(request, "size") else {})
    runs: dict[str, dict[str, Any]] = {}
    live = await _inspect_running(engine, containers)
    found = []
    for container in containers:
        image_id = container.config.image_id
        if image_id not in runs:
            try:
                runs[image_id] = (await engine.images.get(image_id)).run_config
            except NotFound:
                runs[image_id] = {}
        summary = container_summary(container, runs[image_id], {},
                                    sizes.get(container.id) if sizes else None)
        if container.state.running:
            if container.id not in live:
                continue  # removed meanwhile
            _live_settings(live[container.id], container, summary)
        if _matches(summary, container, wanted):
            found.append(summary)
        if 0 < limit <= len(found):
            break
    return json.dumps(found).encode()


@routes.get("/containers/{ref}/json")
async def inspect_container(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    ref = request.match_info["ref"]

    async def inspected() -> dict[str, Any]:
        return (await engine.containers.inspect(ref)).docker_json()

    if flag(request, "size"):
        data = await inspected()
    else:  # kept while nothing changes (app/api/answers.py): compose and CIs poll it
        key = f"inspect {request.match_info.get('api_version', '')} {ref}"
        data = dict(await answers_of(request).get(key, inspected))
    exec_ids = [e.id for e in sessions_of(request).execs.values()
                if e.container_id == data["Id"]]
    data["ExecIDs"] = exec_ids or None
    if flag(request, "size"):
        sizes = await engine.containers.sizes([data["Id"]])
        data["SizeRw"] = data["SizeRootFs"] = sizes.get(data["Id"], 0)
    return web.json_response(data)


# -- create -------------------------------------------------------------------------
@routes.post("/containers/create")
async def create_container(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    config = container_config(body)
    version = request.match_info.get("api_version", "")
    if version and parse_version(version[1:]) < (1, 42):  # as dockerd: not read before 1.42
        config = replace(config, console_size=(0, 0))
    name = request.query.get("name", "")
    engine = engine_of(request)
    container = await engine.containers.create(config, name=name)
    try:
        for network, asked in extra_endpoints(body):
            await engine.networks.connect(network, container.id, **asked)
    except BaseException:
        await engine.containers.remove(container.id, force=True)
        raise
    return web.json_response({"Id": container.id, "Warnings": []}, status=201)


# -- lifecycle ----------------------------------------------------------------------
@routes.post("/containers/{ref}/start")
async def start_container(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    if container.state.status.is_active and container.state.status.value != "paused":
        return _not_modified()
    pending = sessions_of(request).take_pending(container.id)
    if pending is None:
        await engine.containers.start(container.id)
        return _no_content()
    try:
        session = await engine.containers.start_attached(container.id)  # its attach waits for this
    except BaseException as exc:
        if not pending.done():  # the attach ends too: nothing will come
            pending.set_exception(InvalidState(f"the container did not start: {exc}"))
        raise
    if pending.done():  # the attaching client left meanwhile
        session.close()
    else:
        pending.set_result(session)
    return _no_content()


def _signal(request: web.Request) -> str | None:
    value = request.query.get("signal", "").strip()
    if not value:
        return None
    return value if value.isdigit() or value.upper().startswith("SIG") else f"SIG{value.upper()}"


@routes.post("/containers/{ref}/stop")
async def stop_container(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    container = await engine.containers.get(request.match_info["ref"])
    if not container.state.status.can_stop():
        return _not_modified()
    await engine.containers.stop(container.id, timeout=optional_number(request, "t"),
                      signal=_signal(request))
    return _no_content()


@routes.post("/containers/{ref}/restart")
async def restart_container(request: web.Request) -> web.StreamResponse:
    await engine_of(request).containers.restart(request.match_info["ref"],
                                     timeout=optional_number(request, "t"))
    return _no_content()


@routes.post("/containers/{ref}/kill")
async def kill_container(request: web.Request) -> web.StreamResponse:
    await engine_of(request).containers.kill(request.match_info["ref"],
                                             _signal(request) or "SIGKILL")
    return _no_content()


@routes.post("/containers/{ref}/pause")
async def pause_container(request: web.Request) -> web.StreamResponse:
    await engine_of(request).containers.pause(request.match_info["ref"])
    return _no_content()


@routes.post("/containers/{ref}/unpause")
async def unpause_container(request: web.Request) -> web.StreamResponse:
    await engine_of(request).containers.unpause(request.match_info["ref"])
    return _no_content()


@routes.post("/containers/{ref}/rename")
async def rename_container(request: web.Request) -> web.StreamResponse:
    name = request.query.get("name", "")
    if not name:
        raise ApiError(400, "Neither old nor new names may be empty")
    await engine_of(request).containers.rename(request.match_info["ref"], name)
    return _no_content()


_UPDATABLE = ("Memory", "NanoCpus", "CpuQuota", "CpuPeriod", "PidsLimit", "RestartPolicy",
              "MemorySwap", "CpuShares")


@routes.post("/containers/{ref}/update")
async def update_container(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    check_body(body, "UpdateConfig")
    asked = [k for k, v in body.items() if v and k not in _UPDATABLE]
    if asked:
        raise ApiError(400, f"{asked[0]} cannot be updated by Skiff: use Memory, NanoCpus, "
                            "CpuQuota/CpuPeriod, CpuShares, PidsLimit or RestartPolicy")
    nano = body.get("NanoCpus") or None
    if body.get("CpuQuota"):
        nano = int(body["CpuQuota"]) * 1_000_000_000 // int(body.get("CpuPeriod") or 100_000)
    restart = body.get("RestartPolicy") or {}
    policy = None
    if restart.get("Name"):
        policy = RestartPolicy.parse(restart["Name"])
        policy = RestartPolicy(policy.name, int(restart.get("MaximumRetryCount") or 0))
    await engine_of(request).containers.update(
        request.match_info["ref"], memory=body.get("Memory") or None, nano_cpus=nano,
        pids_limit=body.get("PidsLimit") if body.get("PidsLimit") is not None else None,
        restart_policy=policy, cpu_shares=int(body.get("CpuShares") or 0) or None)
    return web.json_response({"Warnings": []})


# -- wait, remove, prune --------------------------------------------------------------
async def _exit_code(request: web.Request, container_id: str) -> int:
    """The exit code of a container that stopped. One being removed as AutoRemove
    has it remembered, since its state goes with it."""
    keeper = keeper_of(request)
    try:
        code = int((await engine_of(request).containers.get(container_id)).state.exit_code)
    except NotFound:
        code = 0
    return keeper.exit_codes.get(container_id, code)


async def _next_exit(request: web.Request, container_id: str) -> int:
    """A container its policy restarts: its next exit (its die event), as dockerd's wait
    answers then, or its stop for good, whichever comes first."""
    engine = engine_of(request)

    async def died() -> int:
        async with contextlib.aclosing(engine.events.stream()) as events:  # type: ignore[type-var]
            async for event in events:
                if event.type == "container" and event.action == "die" and \
                        event.id == container_id:
                    return int(event.attributes.get("exitCode") or 0)
        return await _exit_code(request, container_id)

    async def stopped() -> int:
        await engine.containers.wait(container_id)
        return await _exit_code(request, container_id)

    tasks = [asyncio.ensure_future(died()), asyncio.ensure_future(stopped())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _wait_code(request: web.Request, container: Any, condition: str) -> int:
    engine = engine_of(request)
    keeper = keeper_of(request)
    status = container.state.status
    if condition == "not-running" and not status.is_active:
        return int(container.state.exit_code)
    if condition == "next-exit" and status.value in ("exited", "dead"):
        while (await engine.containers.get(container.id)).state.status.value in ("exited",
                                                                             "dead"):
            await asyncio.sleep(0.1)  # until it starts again
    if condition != "removed":
        if container.config.restart_policy.name != "no":
            return await _next_exit(request, container.id)
        await engine.containers.wait(container.id)
        return await _exit_code(request, container.id)
    gone = keeper.gone(container.id)
    keeper.removers[container.id] = keeper.removers.get(container.id, 0) + 1
    try:
        await engine.containers.wait(container.id)
        code = await _exit_code(request, container.id)
        if container.config.auto_remove:
            keeper.remember(container.id, code)
            with contextlib.suppress(NotFound):
                await engine.containers.remove(container.id)
            return code
        with contextlib.suppress(NotFound):
            await engine.containers.get(container.id)
            await gone.wait()
        return code
    finally:
        keeper.removers[container.id] -= 1
        if not keeper.removers[container.id]:
            del keeper.removers[container.id]
        keeper.forget(container.id)


@routes.post("/containers/{ref}/wait")
async def wait_container(request: web.Request) -> web.StreamResponse:
    condition = request.query.get("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise ApiError(400, f"invalid condition: {condition!r}: use not-running, next-exit "
                            "or removed")
    container = await engine_of(request).containers.get(request.match_info["ref"])
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)  # the headers now, the body at the exit
    code = await _wait_code(request, container, condition)
    await response.write(f'{{"StatusCode":{code}}}\n'.encode())
    await response.write_eof()
    return response


@routes.delete("/containers/{ref}/{alias}")
async def remove_link(request: web.Request) -> web.StreamResponse:
    """``DELETE /containers/PARENT/ALIAS?link=1``: docker rm --link."""
    if not flag(request, "link"):
        raise ApiError(404, "page not found")
    await engine_of(request).containers.remove_link(request.match_info["ref"],
                                                    request.match_info["alias"])
    return _no_content()


@routes.delete("/containers/{ref}")
async def remove_container(request: web.Request) -> web.StreamResponse:
    await engine_of(request).containers.remove(request.match_info["ref"], force=flag(request,
                                                                                     "force"),
                                    volumes=flag(request, "v"))
    return _no_content()


@routes.post("/containers/prune")
async def prune_containers(request: web.Request) -> web.StreamResponse:
    wanted = filters(request, ("until", "label", "label!"))
    engine = engine_of(request)
    if not wanted:
        pruned = await engine.containers.prune()
        return web.json_response({"ContainersDeleted": list(pruned.deleted) or None,
                                  "SpaceReclaimed": pruned.reclaimed})
    until_ns = None
    if wanted.get("until"):
        from app.api.backend import parse_timestamp

        until_ns = parse_timestamp(wanted["until"][0])
    deleted: list[str] = []
    for container in await engine.containers.list(all=True):
        if container.state.status.is_active or container.state.status.value == "removing":
            continue
        labels = container.config.labels
        if until_ns is not None and unix_seconds(container.created) * 10**9 >= until_ns:
            continue
        if not all(_label_match(v, labels) for v in wanted.get("label", [])):
            continue
        if any(_label_match(v, labels) for v in wanted.get("label!", [])):
            continue
        with contextlib.suppress(NotFound, Conflict):
            await engine.containers.remove(container.id)
            deleted.append(container.id)
    return web.json_response({"ContainersDeleted": deleted or None, "SpaceReclaimed": 0})
