"""Every verb of the protocol as a typed request with a typed reply: the verb table.

A request is a frozen dataclass whose fields carry their schema, as the container
spec's do (engine/wire/containerspec.py; what every request is: engine/wire/request.py):
the protocol checks a request's arguments against ``schema_of`` its class
(``protocol.VERBS`` is derived from ``REQUESTS``), the engine builds the dataclass
instead of a dict, and ``reply`` reads the helper's answer into the verb's own type.
The helper answers each verb with the handler of the same name (engine/helper/verbs.py;
tests/engine/helper/test_verbs.py keeps the two tables in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.frozen import record
from engine.wire.containerspec import SCHEMA as CONTAINER_SPEC
from engine.wire.containerspec import ContainerSpec, schema_of
from engine.wire.request import (
    MAX_FDS,
    MAX_ID,
    Flag,
    NoReply,
    Request,
    Streams,
    Verb,
    WithFds,
    container_id,
    given,
    optional,
    result_and_fds,
    schema,
    signal_number,
)
from engine.wire.schema import (
    ABSOLUTE_PATH,
    CONTAINER_ID,
    CONTAINER_NAME,
    DIGEST,
    HOSTNAME,
    IPV4,
    IPV4_CIDR,
    IPV6,
    IPV6_CIDR,
    MAC_ADDRESS,
    NETWORK_ALIAS,
    NETWORK_NAME,
    VOLUME_NAME,
    Field,
    int_field,
    str_field,
)

# The table's vocabulary is importable from here (engine/wire/request.py defines it).
__all__ = ["MAX_FDS", "MAX_ID", "REQUESTS", "Change", "DiskUsageReply", "FsReply", "Namespace",
           "Request", "Verb", "WithFds"]

# With one descriptor per bind (not volume, not tmpfs) of the spec, opened by the
# caller: "sources" says which bind (its index in the spec's binds) each one is.
_SOURCES = Field("list[int]", required=False, max_items=MAX_FDS, minimum=0, maximum=127)
_ARGV = Field("list[str]", max_items=4096, max_len=131072)
_IDS = Field("list[str]", pattern=CONTAINER_ID, max_items=100000)
# A network a container joins at start: its aliases there, the IPv4 and IPv6 addresses
# and the MAC address asked for, and more addresses of its interface (LinkLocalIPs).
_AUX = r"^[^=\x00\n]{1,255}=[0-9A-Fa-f:.]{2,45}\Z"
_LINK = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}:[0-9]{1,3}(\.[0-9]{1,3}){3}\Z"
# IPV6's pattern bounds either family's text; the helper parses them
_LINK_LOCAL = Field("list[str]", required=False, pattern=IPV6, max_items=16)
_JOIN = {"network": str_field(NETWORK_NAME),
         "aliases": Field("list[str]", required=False, pattern=NETWORK_ALIAS, max_items=32),
         "ip": str_field(IPV4, required=False),
         "ip6": str_field(IPV6, required=False),
         "mac": str_field(MAC_ADDRESS, required=False),
         "link_local": _LINK_LOCAL}


# -- the helper itself and layers ----------------------------------------------------------

@record
class Ping(Request[int]):
    """The helper's pid."""

    VERB = Verb.PING

    def reply(self, answer: Any) -> int:
        return int(result_and_fds(answer)[0]["pid"])


@record
class Cancel(NoReply):
    VERB = Verb.CANCEL
    request: int = given(int_field(0, MAX_ID))


@record
class LayerExists(Flag):
    VERB = Verb.LAYER_EXISTS
    diff_id: str = given(str_field(DIGEST))


@record
class ClaimLayer(Flag):
    """Records the caller's reference to the layer if it is unpacked; says whether it is."""

    VERB = Verb.CLAIM_LAYER
    diff_id: str = given(str_field(DIGEST))


@record
class UnpackLayer(Request[int]):
    """With the blob's descriptor; answered with the layer's size as docker counts it
    (its files' bytes), so the engine never reads the blob again to measure it."""

    VERB = Verb.UNPACK_LAYER
    diff_id: str = given(str_field(DIGEST))
    digest: str | None = optional(str_field(DIGEST, required=False))

    def reply(self, answer: Any) -> int:
        return int(result_and_fds(answer)[0])


@record
class RemoveLayer(NoReply):
    VERB = Verb.REMOVE_LAYER
    diff_id: str = given(str_field(DIGEST))


# -- containers --------------------------------------------------------------------------

@record
class ContainerCreate(NoReply):
    """The spec travels as its JSON (``ContainerSpec.to_json``), checked against its
    own fields' schema."""

    VERB = Verb.CONTAINER_CREATE
    id: str = container_id()
    spec: ContainerSpec = field(metadata=schema(Field("dict", items=CONTAINER_SPEC)))

    def to_args(self) -> dict[str, Any]:
        return {"id": self.id, "spec": self.spec.to_json()}

    @classmethod
    def from_checked(cls, args: dict[str, Any]) -> ContainerCreate:
        return cls(id=args["id"], spec=ContainerSpec.from_checked(args["spec"]))


@record
class ContainerStart(Streams):
    """With the bind sources' descriptors; answered with the attach stream's when
    ``attach``."""

    VERB = Verb.CONTAINER_START
    id: str = container_id()
    attach: bool | None = optional(Field("bool", required=False))
    sources: list[int] | None = field(default=None, metadata=schema(_SOURCES))
    # Every network to join, the container's own first: joined before its process
    # starts, and kept across restarts by its monitor (each as _JOIN has it).
    networks: list[dict[str, Any]] | None = field(default=None, metadata=schema(
        Field("list[dict]", required=False, max_items=64, items=_JOIN)))
    # Legacy links (--link), resolved by the caller: "name:address" lines for its hosts
    # file, as --add-host's.
    links: list[str] | None = field(default=None, metadata=schema(
        Field("list[str]", required=False, pattern=_LINK, max_items=256)))
    # Their variables (ALIAS_PORT_80_TCP=...), under the container's own environment.
    link_env: list[str] | None = field(default=None, metadata=schema(
        Field("list[str]", required=False, max_items=4096, max_len=131072)))


@record
class ContainerAttach(Streams):
    VERB = Verb.CONTAINER_ATTACH
    id: str = container_id()


@record
class ContainerSignal(NoReply):
    VERB = Verb.CONTAINER_SIGNAL
    id: str = container_id()
    signal: int = signal_number()


@record
class ContainerStop(NoReply):
    VERB = Verb.CONTAINER_STOP
    id: str = container_id()
    signal: int = signal_number()
    timeout: int = given(int_field(0, 86400))


@record
class ContainerPause(NoReply):
    VERB = Verb.CONTAINER_PAUSE
    id: str = container_id()


@record
class ContainerUnpause(NoReply):
    VERB = Verb.CONTAINER_UNPAUSE
    id: str = container_id()


@record
class ContainerRemove(NoReply):
    VERB = Verb.CONTAINER_REMOVE
    id: str = container_id()
    force: bool = given(Field("bool"))


@dataclass(frozen=True)
class Change:
    """docker diff's row: A, C or D, and the path."""

    kind: str
    path: str


@record
class ContainerChanges(Request[list[Change]]):
    VERB = Verb.CONTAINER_CHANGES
    id: str = container_id()

    def reply(self, answer: Any) -> list[Change]:
        return [Change(str(kind), str(path)) for kind, path in result_and_fds(answer)[0]]


@record
class ContainerLayer(Request[int]):
    """build and commit: the changes as a layer tar, into the one regular file passed;
    answered with the number of entries written (0: nothing changed)."""

    VERB = Verb.CONTAINER_LAYER
    id: str = container_id()

    def reply(self, answer: Any) -> int:
        return int(result_and_fds(answer)[0].get("entries", 0))


@record
class ContainerExec(Streams):
    VERB = Verb.CONTAINER_EXEC
    id: str = container_id()
    args: list[str] = field(metadata=schema(_ARGV))
    env: list[str] = field(metadata=schema(_ARGV))
    user: str = given(str_field(r"^[A-Za-z0-9_.:-]{0,64}$"))
    cwd: str = given(str_field(r"^(/[^\x00]{0,4095})?$"))
    tty: bool = given(Field("bool"))
    rows: int = given(int_field(0, 65535))  # a winsize's, as the container spec's console
    cols: int = given(int_field(0, 65535))


@dataclass(frozen=True)
class FsReply:
    """What container_fs found (a FileEntry's JSON) and the descriptors of the
    transfer, if it opened one."""

    entry: dict[str, Any]
    fds: list[int]


#: the name a tar's top entry gets ("." for the directory's content)
_ARCNAME = r"^(?!\.\.$)(\.|[^/\x00]{1,255})$"


@record
class _Look(Request[FsReply]):
    """A look inside a filesystem (engine/helper/runtime/fsview/): what and where."""

    op: str = given(str_field(choices=("stat", "list", "read", "get", "put")))
    path: str = given(str_field(ABSOLUTE_PATH))
    follow: bool = given(Field("bool"))
    limit: int = given(int_field(0, 1 << 30))
    name: str = given(str_field(_ARCNAME, max_len=1024))
    archive: bool = given(Field("bool"))

    def reply(self, answer: Any) -> FsReply:
        result, fds = result_and_fds(answer)
        return FsReply(dict(result["entry"]) if fds else dict(result), fds)


@record
class ContainerFs(_Look):
    """Inside the container's filesystem, with the bind sources' descriptors as for
    container_start (a bind left out is not shown)."""

    VERB = Verb.CONTAINER_FS
    id: str = container_id()
    sources: list[int] | None = field(default=None, metadata=schema(_SOURCES))


@record
class VolumeFs(_Look):
    """Inside a volume, whether a container mounts it or not: ``path`` is in the
    volume (its top is "/")."""

    VERB = Verb.VOLUME_FS
    volume: str = given(str_field(VOLUME_NAME))


@dataclass(frozen=True)
class Namespace:
    """One of a running container's namespaces: its inode and the host's."""

    kind: str
    mine: int
    host: int


@record
class ContainerNamespaces(Request[list[Namespace]]):
    VERB = Verb.CONTAINER_NAMESPACES
    id: str = container_id()

    def reply(self, answer: Any) -> list[Namespace]:
        return [Namespace(str(kind), int(mine), int(host))
                for kind, mine, host in result_and_fds(answer)[0]]


@record
class ContainerRename(NoReply):
    VERB = Verb.CONTAINER_RENAME
    id: str = container_id()
    name: str = given(str_field(CONTAINER_NAME))


@record
class ContainerClearLog(NoReply):
    """Empties the container's log (its rotated files too)."""

    VERB = Verb.CONTAINER_CLEAR_LOG
    id: str = container_id()


@record
class ContainerUpdate(NoReply):
    """docker update: the limits and restart policy, whole (None: no limit)."""

    VERB = Verb.CONTAINER_UPDATE
    id: str = container_id()
    memory: int | None = optional(CONTAINER_SPEC["memory"])
    nano_cpus: int | None = optional(CONTAINER_SPEC["nano_cpus"])
    pids_limit: int | None = optional(CONTAINER_SPEC["pids_limit"])
    restart_policy: str = given(CONTAINER_SPEC["restart_policy"])
    restart_max: int = given(CONTAINER_SPEC["restart_max"])
    # None: as it is (an older engine's request sends none)
    cpu_shares: int | None = optional(CONTAINER_SPEC["cpu_shares"])


@dataclass(frozen=True)
class DiskUsageReply:
    """Bytes in each container's upper directory and each volume."""

    containers: dict[str, int]
    volumes: dict[str, int]


@record
class DiskUsage(Request[DiskUsageReply]):
    """docker system df: bytes in the caller's containers' upper dirs and volumes."""

    VERB = Verb.DISK_USAGE
    containers: list[str] = field(metadata=schema(_IDS))
    volumes: list[str] = field(metadata=schema(
        Field("list[str]", pattern=VOLUME_NAME, max_items=100000)))

    def reply(self, answer: Any) -> DiskUsageReply:
        result = result_and_fds(answer)[0]
        return DiskUsageReply({str(k): int(v) for k, v in result["containers"].items()},
                              {str(k): int(v) for k, v in result["volumes"].items()})


# -- volumes and repair ---------------------------------------------------------------------

@record
class VolumeCreate(Request[str]):
    """Answered with the volume's mountpoint."""

    VERB = Verb.VOLUME_CREATE
    name: str = given(str_field(VOLUME_NAME))

    def reply(self, answer: Any) -> str:
        return str(result_and_fds(answer)[0]["mountpoint"])


@record
class VolumeRemove(NoReply):
    VERB = Verb.VOLUME_REMOVE
    name: str = given(str_field(VOLUME_NAME))


@record
class Repair(NoReply):
    """The containers and layers the engine knows of: the helper forgets the rest."""

    VERB = Verb.REPAIR
    ids: list[str] = field(metadata=schema(_IDS))
    layers: list[str] | None = field(default=None, metadata=schema(
        Field("list[str]", pattern=DIGEST, max_items=100000, required=False)))


# -- networks (answered in Docker's network JSON shape) -------------------------------------

class _Network(Request[dict[str, Any]]):
    def reply(self, answer: Any) -> dict[str, Any]:
        return dict(result_and_fds(answer)[0])


@record
class NetworkCreate(_Network):
    VERB = Verb.NETWORK_CREATE
    name: str = given(str_field(NETWORK_NAME))
    subnet: str | None = optional(str_field(IPV4_CIDR, required=False))
    gateway: str | None = optional(str_field(IPV4, required=False))
    ip_range: str | None = optional(str_field(IPV4_CIDR, required=False))
    internal: bool | None = optional(Field("bool", required=False))
    ipv6: bool | None = optional(Field("bool", required=False))
    subnet6: str | None = optional(str_field(IPV6_CIDR, required=False))
    gateway6: str | None = optional(str_field(IPV6, required=False))
    ip_range6: str | None = optional(str_field(IPV6_CIDR, required=False))
    # IPAM's auxiliary addresses, "name=address": in a subnet, never handed out
    aux: list[str] | None = field(default=None, metadata=schema(
        Field("list[str]", required=False, pattern=_AUX, max_items=256)))


@record
class NetworkRemove(NoReply):
    VERB = Verb.NETWORK_REMOVE
    name: str = given(str_field(NETWORK_NAME))


@record
class NetworkList(Request[list[dict[str, Any]]]):
    VERB = Verb.NETWORK_LIST

    def reply(self, answer: Any) -> list[dict[str, Any]]:
        return [dict(network) for network in result_and_fds(answer)[0]]


@record
class NetworkInspect(_Network):
    VERB = Verb.NETWORK_INSPECT
    name: str = given(str_field(NETWORK_NAME))


@record
class NetworkConnect(NoReply):
    VERB = Verb.NETWORK_CONNECT
    id: str = container_id()
    network: str = given(str_field(NETWORK_NAME))
    name: str | None = optional(str_field(CONTAINER_NAME, required=False))
    hostname: str | None = optional(str_field(HOSTNAME, required=False))
    aliases: list[str] | None = field(default=None, metadata=schema(
        Field("list[str]", required=False, pattern=NETWORK_ALIAS, max_items=32)))
    ip: str | None = optional(str_field(IPV4, required=False))
    ip6: str | None = optional(str_field(IPV6, required=False))
    mac: str | None = optional(str_field(MAC_ADDRESS, required=False))
    link_local: list[str] | None = field(default=None, metadata=schema(_LINK_LOCAL))


@record
class NetworkDisconnect(NoReply):
    VERB = Verb.NETWORK_DISCONNECT
    id: str = container_id()
    network: str = given(str_field(NETWORK_NAME))


@record
class NetworkRepair(NoReply):
    VERB = Verb.NETWORK_REPAIR


#: The verb table: each verb's request class (its fields are the verb's schema).
REQUESTS: dict[Verb, type[Request[Any]]] = {cls.VERB: cls for cls in (
    Ping, Cancel, LayerExists, ClaimLayer, UnpackLayer, RemoveLayer,
    ContainerCreate, ContainerStart, ContainerAttach, ContainerSignal, ContainerStop,
    ContainerPause, ContainerUnpause, ContainerRemove, ContainerChanges, ContainerLayer,
    ContainerExec, ContainerFs, ContainerNamespaces, ContainerRename, ContainerClearLog,
    ContainerUpdate,
    DiskUsage, VolumeCreate, VolumeRemove, VolumeFs, Repair,
    NetworkCreate, NetworkRemove, NetworkList, NetworkInspect, NetworkConnect,
    NetworkDisconnect, NetworkRepair)}


def schemas() -> dict[str, dict[str, Field]]:
    """Each verb's schema, from its request's fields."""
    return {str(verb): schema_of(cls) for verb, cls in REQUESTS.items()}
