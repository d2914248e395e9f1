"""The helper's verb table: each protocol verb (engine/wire/requests.py) and the
code that answers it, in one place.

A request reaches a handler only after the protocol checked it against its
verb's schema, read back as the verb's typed request (``container_create``'s spec
as a ContainerSpec, engine/wire/containerspec.py). tests/engine/helper/test_verbs.py
keeps this table and the protocol's in step: no verb without a handler, no handler
for a verb the protocol does not know.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from engine.helper.cancel import Cancellation
from engine.helper.containers import ContainerService
from engine.wire import requests as rq
from engine.wire.requests import Verb

if TYPE_CHECKING:
    from engine.helper.network.verbs import NetworkVerbs  # pyroute2: on first use only

__all__ = ["HANDLERS", "Call", "Handler", "Server"]


class Server(Protocol):
    """What the handlers reach of the helper's server (engine/helper/server.py)."""

    containers: ContainerService

    def layer_exists(self, diff_id: str) -> bool: ...

    def claim_layer(self, diff_id: str) -> bool: ...

    def remove_layer(self, diff_id: str) -> None: ...

    def unpack_layer(self, diff_id: str, digest: str | None, fds: list[int],
                     cancel: Cancellation) -> Any: ...

    def networks(self) -> NetworkVerbs: ...


@dataclass(frozen=True)
class Call:
    """One checked request as a handler gets it."""

    request: rq.Request[Any]  # typed, as engine/wire/requests.py has it
    fds: list[int]  # the descriptors that came with it (the handler may take them)
    cancel: Cancellation


Handler = Callable[[Server, Call], Any]
Q = TypeVar("Q", bound=rq.Request[Any])


def _typed(cls: type[Q], handle: Callable[[Server, Q, Call], Any]) -> Handler:
    """A handler of ``cls``'s requests."""
    def handler(server: Server, call: Call) -> Any:
        assert isinstance(call.request, cls)
        return handle(server, call.request, call)
    return handler


HANDLERS: dict[Verb, Handler] = {
    Verb.PING: lambda server, call: {"pid": os.getpid()},
    Verb.LAYER_EXISTS: _typed(rq.LayerExists, lambda server, r, call: (
        server.layer_exists(r.diff_id))),
    Verb.CLAIM_LAYER: _typed(rq.ClaimLayer, lambda server, r, call: (
        server.claim_layer(r.diff_id))),
    Verb.UNPACK_LAYER: _typed(rq.UnpackLayer, lambda server, r, call: (
        server.unpack_layer(r.diff_id, r.digest, call.fds, call.cancel))),
    Verb.REMOVE_LAYER: _typed(rq.RemoveLayer, lambda server, r, call: (
        server.remove_layer(r.diff_id))),
    Verb.CONTAINER_CREATE: _typed(rq.ContainerCreate, lambda server, r, call: (
        server.containers.create(r.id, r.spec))),
    Verb.CONTAINER_START: _typed(rq.ContainerStart, lambda server, r, call: (
        server.containers.start(r.id, bool(r.attach), call.fds, r.sources, r.networks,
                                r.links, r.link_env))),
    Verb.CONTAINER_ATTACH: _typed(rq.ContainerAttach, lambda server, r, call: (
        server.containers.attach(r.id))),
    Verb.CONTAINER_SIGNAL: _typed(rq.ContainerSignal, lambda server, r, call: (
        server.containers.signal(r.id, r.signal))),
    Verb.CONTAINER_STOP: _typed(rq.ContainerStop, lambda server, r, call: (
        server.containers.stop(r.id, r.signal, r.timeout))),
    Verb.CONTAINER_PAUSE: _typed(rq.ContainerPause, lambda server, r, call: (
        server.containers.pause(r.id))),
    Verb.CONTAINER_UNPAUSE: _typed(rq.ContainerUnpause, lambda server, r, call: (
        server.containers.unpause(r.id))),
    Verb.CONTAINER_REMOVE: _typed(rq.ContainerRemove, lambda server, r, call: (
        server.containers.remove(r.id, r.force))),
    Verb.CONTAINER_CHANGES: _typed(rq.ContainerChanges, lambda server, r, call: (
        server.containers.changes(r.id))),
    Verb.CONTAINER_LAYER: _typed(rq.ContainerLayer, lambda server, r, call: (
        server.containers.layer(r.id, call.fds))),
    Verb.CONTAINER_EXEC: _typed(rq.ContainerExec, lambda server, r, call: (
        server.containers.exec(r.id, r.args, r.env, r.user, r.cwd, r.tty, r.rows, r.cols))),
    Verb.CONTAINER_FS: _typed(rq.ContainerFs, lambda server, r, call: (
        server.containers.files(r.id, r.op, r.path, r.follow, r.limit, r.name, r.archive,
                                fds=call.fds, sources=r.sources))),
    Verb.CONTAINER_NAMESPACES: _typed(rq.ContainerNamespaces, lambda server, r, call: (
        server.containers.namespaces(r.id))),
    Verb.CONTAINER_RENAME: _typed(rq.ContainerRename, lambda server, r, call: (
        server.containers.rename(r.id, r.name))),
    Verb.CONTAINER_CLEAR_LOG: _typed(rq.ContainerClearLog, lambda server, r, call: (
        server.containers.clear_log(r.id))),
    Verb.CONTAINER_UPDATE: _typed(rq.ContainerUpdate, lambda server, r, call: (
        server.containers.update(r.id, r.memory, r.nano_cpus, r.pids_limit,
                                 r.restart_policy, r.restart_max, r.cpu_shares))),
    Verb.DISK_USAGE: _typed(rq.DiskUsage, lambda server, r, call: (
        server.containers.disk_usage(r.containers, r.volumes))),
    Verb.VOLUME_CREATE: _typed(rq.VolumeCreate, lambda server, r, call: (
        server.containers.volume_create(r.name))),
    Verb.VOLUME_REMOVE: _typed(rq.VolumeRemove, lambda server, r, call: (
        server.containers.volume_remove(r.name))),
    Verb.VOLUME_FS: _typed(rq.VolumeFs, lambda server, r, call: (
        server.containers.volume_files(r.volume, r.op, r.path, r.follow, r.limit, r.name,
                                       r.archive))),
    Verb.REPAIR: _typed(rq.Repair, lambda server, r, call: (
        server.containers.repair(r.ids, r.layers))),
    Verb.NETWORK_CREATE: _typed(rq.NetworkCreate, lambda server, r, call: (
        server.networks().create(r.name, r.subnet, r.gateway, r.ip_range, r.internal,
                                 r.ipv6, r.subnet6, r.gateway6, r.ip_range6, r.aux))),
    Verb.NETWORK_REMOVE: _typed(rq.NetworkRemove, lambda server, r, call: (
        server.networks().remove(r.name))),
    Verb.NETWORK_LIST: _typed(rq.NetworkList, lambda server, r, call: (
        server.networks().list())),
    Verb.NETWORK_INSPECT: _typed(rq.NetworkInspect, lambda server, r, call: (
        server.networks().inspect(r.name))),
    Verb.NETWORK_CONNECT: _typed(rq.NetworkConnect, lambda server, r, call: (
        server.networks().connect(r.id, r.network, r.name, r.hostname, r.aliases, r.ip,
                                  r.ip6, r.mac, r.link_local))),
    Verb.NETWORK_DISCONNECT: _typed(rq.NetworkDisconnect, lambda server, r, call: (
        server.networks().disconnect(r.id, r.network))),
    Verb.NETWORK_REPAIR: _typed(rq.NetworkRepair, lambda server, r, call: (
        server.networks().repair())),
}
