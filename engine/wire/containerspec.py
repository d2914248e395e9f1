"""The container spec: what the engine asks the helper to create, typed once.

``ContainerSpec`` is built by the engine (engine/containers/runspec.py), sent as
JSON in ``container_create`` and checked by the helper against the schema its
own fields carry (``SCHEMA``, engine/wire/schema.py), then read back with
``from_checked``. The types and the bounds are written down here only: the
protocol's schema for the spec is derived from these fields, so the two cannot
drift apart. Fields are as they travel: ``None`` is "not given" (the helper
applies the default), never a value of its own.

The helper turns a checked spec into the record a container's monitor runs
from (``RuntimeSpec``, engine/helper/runtime/spec.py), adding what only it
decides: the owner, paths under its root, the user namespace, the devices mode.
"""

from __future__ import annotations

from engine.frozen import asdict, field, fields, record
from engine.names import NAME_CHARS, NAME_MAX
from engine.wire.capabilities import NAMES as _CAPABILITY_NAMES
from engine.wire.schema import (
    ABSOLUTE_PATH,
    CONTAINER_NAME,
    DIGEST,
    HOSTNAME,
    NETWORK_ALIAS,
    NETWORK_NAME,
    Field,
    int_field,
    str_field,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CAPABILITY", "SCHEMA", "SYSCTL", "ULIMITS", "ContainerSpec", "DeviceSpec",
           "HealthSpec", "MountSpec", "PortSpec", "UlimitSpec", "schema_of"]


def _wire(check: Field) -> dict[str, Field]:
    """A dataclass field's metadata: its protocol schema. Optional ones default to None."""
    return {"schema": check}


def schema_of(cls: type) -> dict[str, Field]:
    """The protocol schema of a spec dataclass, in field order (the order of its errors)."""
    return {f.name: f.metadata["schema"] for f in fields(cls)}


_ARGV = Field("list[str]", max_items=4096, max_len=131072)  # argv, environment
_NS = int_field(1_000_000, 1 << 62)  # a probe's period, in ns


def _strings(pattern: str, items: int, length: int = 4096) -> dict[str, Field]:
    """An optional list of strings' metadata."""
    return _wire(Field("list[str]", False, pattern, max_len=length, max_items=items))


def _given(check: Field) -> Any:
    """A field the request must give."""
    return field(metadata=_wire(check))


def _optional(check: Field) -> Any:
    """A field the request may leave out (None)."""
    return field(default=None, metadata=_wire(check))


@record
class PortSpec:
    """A port to publish (-p)."""

    container_port: int = _given(int_field(1, 65535))
    protocol: str = _given(str_field(choices=("tcp", "udp")))
    # "" (every host address), an IPv4 one, or an IPv6 one (the helper parses it)
    host_ip: str = _given(str_field(
        r"^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:]{2,39})?$"))
    host_port: int = _given(int_field(0, 65535))


@record
class MountSpec:
    """A bind, volume or tmpfs the user asked for; a bind's source is never opened by the
    helper (engine/helper/sources.py)."""

    type: str | None = _optional(str_field(choices=("bind", "volume", "tmpfs"),
                                           required=False))
    # bind: an absolute host path; volume: a volume name; tmpfs: empty
    source: str = _given(str_field(
        rf"^(/[^\x00]{{0,4095}}|{NAME_CHARS}{{0,{NAME_MAX - 1}}})?$"))
    target: str = _given(str_field(ABSOLUTE_PATH))
    read_only: bool = _given(Field("bool"))
    # a tmpfs's options: bytes, permission bits, exec allowed (docker's default: noexec)
    tmpfs_size: int | None = _optional(int_field(1, 1 << 50, required=False))
    tmpfs_mode: int | None = _optional(int_field(0, 0o7777, required=False))
    tmpfs_exec: bool | None = _optional(Field("bool", required=False))

    @property
    def kind(self) -> str:
        return self.type or "bind"


@record
class HealthSpec:
    """The probe the monitor runs (engine/containers/health.py); times in ns."""

    args: list[str] = field(metadata=_wire(_ARGV))
    interval: int = _given(_NS)
    timeout: int = _given(_NS)
    start_interval: int = _given(_NS)
    start_period: int = _given(int_field(0, 1 << 62))
    retries: int = _given(int_field(1, 1 << 31))


#: Docker's --ulimit names (each an RLIMIT_ of the same name but "as", RLIMIT_AS)
ULIMITS = ("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
           "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
#: A capability as Docker names it once normalised ("CAP_NET_ADMIN"), or ALL
CAPABILITY = rf"^(ALL|{'|'.join(_CAPABILITY_NAMES)})\Z"
#: The sysctls Docker lets a container set: those of its own IPC, UTS and network
#: namespaces (moby's opts.ValidateSysctl, runc's validateSysctl), "name=value"
SYSCTL = (r"^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced"
          r"|domainname)|fs\.mqueue\.[a-z_]{1,64}|net\.[A-Za-z0-9_.-]{1,200})="
          r"[^\x00\n]{0,1024}\Z")
_IP = r"^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]{2,45})\Z"
_DOMAIN = r"^(\.|[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252}[A-Za-z0-9_.])?)\Z"
_DNS_OPTION = r"^[A-Za-z0-9_-]{1,32}(:[0-9]{1,5})?\Z"
# hosts-file names (Docker allows more than hostnames: underscores, any case)
_EXTRA_HOST = (r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}:([0-9]{1,3}(\.[0-9]{1,3}){3}"
               r"|[0-9A-Fa-f:.]{2,45}|host-gateway)\Z")
_GROUP = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\Z"  # a group's name or id
_MAC = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z"
_DEVICE_PATH = r"^/[^\x00]{0,4095}\Z"


@record
class UlimitSpec:
    """A resource limit of the container's processes (-1: unlimited)."""

    name: str = _given(str_field(choices=ULIMITS))
    soft: int = _given(int_field(-1, (1 << 63) - 1))
    hard: int = _given(int_field(-1, (1 << 63) - 1))


@record
class DeviceSpec:
    """A host device node the container gets (--device); the helper never opens
    ``path_on_host``: the user's own process opens it and hands the descriptor over."""

    path_on_host: str = _given(str_field(_DEVICE_PATH))
    path_in_container: str = _given(str_field(ABSOLUTE_PATH))
    permissions: str = _given(str_field(r"^(?!.*(.).*\1)[rwm]{1,3}\Z"))


_USER = r"^[A-Za-z0-9_.:-]{0,64}$"
_EXPOSED = r"^[0-9]{1,5}/(tcp|udp)$"
_SECCOMP = r"^(?:unconfined\Z|\{)"


@record
class ContainerSpec:
    """A container as ``container_create`` carries it."""

    args: list[str] = field(metadata=_wire(_ARGV))
    env: list[str] = field(metadata=_wire(_ARGV))
    cwd: str = _given(str_field(ABSOLUTE_PATH))
    user: str | None = _optional(str_field(_USER, required=False))
    hostname: str = _given(str_field(HOSTNAME))
    layers: list[str] = field(metadata=_wire(
        Field("list[str]", pattern=DIGEST, max_items=127)))
    memory: int | None = _optional(int_field(4 << 20, required=False))
    nano_cpus: int | None = _optional(int_field(1_000_000, required=False))
    pids_limit: int | None = _optional(int_field(1, required=False))
    restart_policy: str = _given(str_field(choices=("no", "on-failure", "always",
                                                    "unless-stopped")))
    restart_max: int = _given(int_field(0, 1 << 31))
    stop_signal: int = _given(int_field(1, 64))
    binds: list[MountSpec] = field(metadata=_wire(
        Field("list[dict]", max_items=128, items=schema_of(MountSpec))))
    # default | bridge | none | host | a user-defined network's name
    network_mode: str = _given(str_field(NETWORK_NAME))
    ports: list[PortSpec] = field(metadata=_wire(
        Field("list[dict]", max_items=1024, items=schema_of(PortSpec))))
    exposed: list[str] = field(metadata=_wire(
        Field("list[str]", pattern=_EXPOSED, max_items=1024)))
    aliases: list[str] = field(metadata=_wire(
        Field("list[str]", pattern=NETWORK_ALIAS, max_items=32)))
    name: str = _given(str_field(CONTAINER_NAME))
    # the reference it was created from, for events
    image: str | None = _optional(str_field(max_len=512, required=False))
    tty: bool | None = _optional(Field("bool", required=False))
    open_stdin: bool | None = _optional(Field("bool", required=False))
    # with a TTY, its size before the process starts (Docker's HostConfig.ConsoleSize)
    console_rows: int | None = _optional(int_field(1, 65535, required=False))
    console_cols: int | None = _optional(int_field(1, 65535, required=False))
    log_max_size: int | None = _optional(int_field(0, 1 << 40, required=False))  # 0: never
    log_max_files: int | None = _optional(int_field(1, 100, required=False))
    log_discard: bool | None = _optional(Field("bool", required=False))  # --log-driver none
    # unconfined, or a seccomp profile's JSON (checked and compiled by the helper);
    # None: Docker's default profile
    seccomp: str | None = _optional(str_field(_SECCOMP, max_len=1 << 18, required=False))
    # "" (root: the host's, a user: remapped), host (root only), remap or auto
    userns: str | None = _optional(str_field(choices=("", "host", "remap", "auto"),
                                             required=False))
    # The probe the monitor runs; None: none
    healthcheck: HealthSpec | None = field(default=None, metadata=_wire(
        Field("dict", required=False, items=schema_of(HealthSpec))))

    # Docker's HostConfig fields of the same names; None (an older engine's request):
    # none, the default
    dns: list[str] | None = field(default=None, metadata=_strings(_IP, 16))
    dns_search: list[str] | None = field(default=None, metadata=_strings(_DOMAIN, 16))
    dns_options: list[str] | None = field(default=None, metadata=_strings(_DNS_OPTION, 16))
    extra_hosts: list[str] | None = field(default=None, metadata=_strings(_EXTRA_HOST, 256))
    cap_add: list[str] | None = field(default=None, metadata=_strings(CAPABILITY, 64))
    cap_drop: list[str] | None = field(default=None, metadata=_strings(CAPABILITY, 64))
    init: bool | None = _optional(Field("bool", required=False))
    cpu_shares: int | None = _optional(int_field(2, 262144, required=False))
    read_only: bool | None = _optional(Field("bool", required=False))
    shm_size: int | None = _optional(int_field(1, 1 << 40, required=False))
    ulimits: list[UlimitSpec] | None = field(default=None, metadata=_wire(
        Field("list[dict]", False, max_items=len(ULIMITS), items=schema_of(UlimitSpec))))
    sysctls: list[str] | None = field(default=None, metadata=_strings(SYSCTL, 64, 1300))
    devices: list[DeviceSpec] | None = field(default=None, metadata=_wire(
        Field("list[dict]", False, max_items=64, items=schema_of(DeviceSpec))))
    mac_address: str | None = _optional(str_field(_MAC, required=False))
    group_add: list[str] | None = field(default=None, metadata=_strings(_GROUP, 32, 64))
    # AutoRemove (--rm): its files go with it, so its root filesystem need not outlive
    # a crash (the helper mounts it volatile)
    auto_remove: bool | None = _optional(Field("bool", required=False))

    def to_json(self) -> dict[str, Any]:
        """What travels in ``container_create`` (and what the engine keeps to send again)."""
        return asdict(self)

    @classmethod
    def from_checked(cls, data: dict[str, Any]) -> ContainerSpec:
        """The spec of a request the protocol checked against ``SCHEMA``."""
        values = dict(data)
        values["binds"] = [MountSpec(**b) for b in data["binds"]]
        values["ports"] = [PortSpec(**p) for p in data["ports"]]
        if data.get("healthcheck") is not None:
            values["healthcheck"] = HealthSpec(**data["healthcheck"])
        if data.get("ulimits") is not None:
            values["ulimits"] = [UlimitSpec(**u) for u in data["ulimits"]]
        if data.get("devices") is not None:
            values["devices"] = [DeviceSpec(**d) for d in data["devices"]]
        return cls(**values)


#: The protocol's schema of ``container_create``'s spec.
SCHEMA = schema_of(ContainerSpec)
