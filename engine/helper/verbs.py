"""The helper's verb table: each protocol verb (engine/wire/protocol.py) and the
code that answers it, in one place.

A request reaches a handler only after the protocol checked it against its
verb's schema; ``container_create``'s spec arrives typed (ContainerSpec,
engine/wire/containerspec.py). tests/engine/helper/test_verbs.py keeps this
table and the protocol's in step: no verb without a handler, no handler for a
verb the protocol does not know.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.helper.cancel import Cancellation
from engine.wire.containerspec import ContainerSpec

if TYPE_CHECKING:
    from engine.helper.server import HelperServer

__all__ = ["HANDLERS", "Call", "Handler"]


@dataclass(frozen=True)
class Call:
    """One checked request as a handler gets it."""

    args: dict[str, Any]
    fds: list[int]  # the descriptors that came with it (the handler may take them)
    cancel: Cancellation


Handler = Callable[["HelperServer", Call], Any]


def _layers(verb: str) -> Handler:
    return lambda server, call: server.layers(verb, call.args, call.fds, call.cancel)


def _network(verb: str) -> Handler:
    return lambda server, call: server.network(verb, call.args)


HANDLERS: dict[str, Handler] = {
    "ping": lambda server, call: {"pid": os.getpid()},
    **{verb: _layers(verb) for verb in ("layer_exists", "claim_layer", "unpack_layer",
                                         "remove_layer")},
    "container_create": lambda server, call: server.containers.create(
        call.args["id"], ContainerSpec.from_checked(call.args["spec"])),
    "container_start": lambda server, call: server.containers.start(
        call.args["id"], bool(call.args["attach"]), call.fds, call.args["sources"],
        call.args["networks"]),
    "container_attach": lambda server, call: server.containers.attach(call.args["id"]),
    "container_signal": lambda server, call: server.containers.signal(
        call.args["id"], call.args["signal"]),
    "container_stop": lambda server, call: server.containers.stop(
        call.args["id"], call.args["signal"], call.args["timeout"]),
    "container_pause": lambda server, call: server.containers.pause(call.args["id"]),
    "container_unpause": lambda server, call: server.containers.unpause(call.args["id"]),
    "container_remove": lambda server, call: server.containers.remove(
        call.args["id"], call.args["force"]),
    "container_changes": lambda server, call: server.containers.changes(call.args["id"]),
    "container_layer": lambda server, call: server.containers.layer(call.args["id"],
                                                                    call.fds),
    "container_exec": lambda server, call: server.containers.exec(**call.args),
    "container_fs": lambda server, call: server.containers.files(**call.args, fds=call.fds),
    "container_namespaces": lambda server, call: server.containers.namespaces(
        call.args["id"]),
    "container_rename": lambda server, call: server.containers.rename(
        call.args["id"], call.args["name"]),
    "container_clear_log": lambda server, call: server.containers.clear_log(call.args["id"]),
    "container_update": lambda server, call: server.containers.update(**call.args),
    "disk_usage": lambda server, call: server.containers.disk_usage(
        call.args["containers"], call.args["volumes"]),
    "volume_create": lambda server, call: server.containers.volume_create(call.args["name"]),
    "volume_remove": lambda server, call: server.containers.volume_remove(call.args["name"]),
    "repair": lambda server, call: server.containers.repair(call.args["ids"],
                                                            call.args.get("layers")),
    **{verb: _network(verb) for verb in ("network_create", "network_remove", "network_list",
                                          "network_inspect", "network_connect",
                                          "network_disconnect", "network_repair")},
}
