"""Networks: list, inspect, create, connect, disconnect, remove, prune.

Skiff's networks are bridges with one IPv4 subnet and, with EnableIPv6, one
IPv6 subnet; a request for something else (another driver, IPv6 only, several
subnets of a kind) is refused in one line rather than half done
(app/api/networkjson.py).
"""

from __future__ import annotations

from aiohttp import web

from app.api import params
from app.api.backend import engine_of
from app.api.bodytypes import check_body
from app.api.errors import ApiError
from app.api.filters import Filters, prune_filter
from app.api.networkjson import NETWORK_FILTERS, create_options, filter_networks, network_json
from app.api.routing import Routes

__all__ = ["routes"]

routes = Routes()


@routes.get("/networks")
async def list_networks(request: web.Request) -> web.StreamResponse:
    found = Filters(params.filters(request, NETWORK_FILTERS))
    listed = await engine_of(request).networks.list()
    networks = filter_networks([n.docker_json() for n in listed], found)
    return web.json_response([network_json(n, containers=False) for n in networks])


@routes.get("/networks/{id}")
async def inspect_network(request: web.Request) -> web.StreamResponse:
    network = await engine_of(request).networks.inspect(request.match_info["id"])
    return web.json_response(network_json(network.docker_json()))


@routes.post("/networks/create")
async def create_network(request: web.Request) -> web.StreamResponse:
    body = await params.json_body(request)
    check_body(body, "NetworkCreateRequest")
    name, subnets = create_options(body)
    labels = body.get("Labels") or {}
    if not isinstance(labels, dict):
        raise ApiError(400, "network Labels must be an object of strings")
    created = await engine_of(request).networks.create(
        name, labels={str(k): str(v) for k, v in labels.items()},
        internal=bool(body.get("Internal")), subnets=subnets)
    return web.json_response({"Id": created.id, "Warning": ""}, status=201)


@routes.post("/networks/{id}/connect")
async def connect_network(request: web.Request) -> web.StreamResponse:
    body = await params.json_body(request)
    check_body(body, "NetworkConnect")
    container = str(body.get("Container") or "")
    if not container:
        raise ApiError(400, "no container given: the body needs Container")
    endpoint = body.get("EndpointConfig") or {}
    aliases = [str(a) for a in endpoint.get("Aliases") or []]
    ipam = endpoint.get("IPAMConfig") or {}
    engine = engine_of(request)
    network = await engine.networks.inspect(request.match_info["id"])
    await engine.networks.connect(network.name, container, aliases,
                                 str(ipam.get("IPv4Address") or ""),
                                 str(ipam.get("IPv6Address") or ""),
                                 str(endpoint.get("MacAddress") or ""),
                                 links=[str(k) for k in endpoint.get("Links") or []],
                                 link_local_ips=[str(a) for a in
                                                 ipam.get("LinkLocalIPs") or []])
    return web.Response(status=200)


@routes.post("/networks/{id}/disconnect")
async def disconnect_network(request: web.Request) -> web.StreamResponse:
    body = await params.json_body(request)
    check_body(body, "NetworkDisconnect")
    container = str(body.get("Container") or "")
    if not container:
        raise ApiError(400, "no container given: the body needs Container")
    engine = engine_of(request)
    network = await engine.networks.inspect(request.match_info["id"])
    await engine.networks.disconnect(network.name, container)
    return web.Response(status=200)


@routes.delete("/networks/{id}")
async def remove_network(request: web.Request) -> web.StreamResponse:
    engine = engine_of(request)
    network = await engine.networks.inspect(request.match_info["id"])
    await engine.networks.remove(network.name)
    return web.Response(status=204)


@routes.post("/networks/prune")
async def prune_networks(request: web.Request) -> web.StreamResponse:
    found = Filters(params.filters(request, ("label", "label!", "until")))
    pruned = await engine_of(request).networks.prune(prune_filter(found))
    return web.json_response({"NetworksDeleted": pruned.deleted or None})
