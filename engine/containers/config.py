"""A container's creation-time configuration.

Everything here is decided when the container is created and never changes
while it exists (editing settings in the app recreates the container). The
runtime state lives apart, in :mod:`engine.containers.state`.
"""

from __future__ import annotations

from engine.frozen import MISSING, asdict, field, fields, frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine.containers.health import Healthcheck

__all__ = [
    "ContainerConfig",
    "DeviceMapping",
    "MountSpec",
    "PortBinding",
    "Resources",
    "RestartPolicy",
    "Ulimit",
]

RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")


@frozen
class RestartPolicy:
    name: str = "no"
    maximum_retry_count: int = 0

    @classmethod
    def parse(cls, text: str) -> RestartPolicy:
        """Parse docker's ``--restart`` syntax: ``no``, ``on-failure[:N]``, ``always``..."""
        from engine.errors import InvalidArgument

        name, _, count = text.partition(":")
        if name not in RESTART_POLICIES:
            raise InvalidArgument(f"invalid restart policy {text!r}: use no, on-failure[:N], "
                                  "always or unless-stopped")
        if count and name != "on-failure":
            raise InvalidArgument(f"invalid restart policy {text!r}: only on-failure takes a "
                                  "maximum retry count")
        try:
            retries = int(count) if count else 0
        except ValueError:
            raise InvalidArgument(f"invalid restart policy {text!r}: {count!r} is not a "
                                  "number") from None
        if retries < 0:
            raise InvalidArgument(f"invalid restart policy {text!r}: the count must be >= 0")
        return cls(name, retries)


@frozen
class Resources:
    memory: int | None = None  # bytes
    nano_cpus: int | None = None  # 1e9 == one CPU
    pids_limit: int | None = None
    cpu_shares: int | None = None  # docker's relative weight (1024: the default)


@frozen
class Ulimit:
    """Docker's ``--ulimit nofile=1024:2048`` (-1: unlimited)."""

    name: str
    soft: int
    hard: int


@frozen
class DeviceMapping:
    """Docker's ``--device /dev/x[:/dev/y[:rwm]]``: a host device node in the container."""

    path_on_host: str
    path_in_container: str
    permissions: str = "rwm"


@frozen
class PortBinding:
    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: int = 0  # 0: pick a free port at start


@frozen
class MountSpec:
    type: str  # bind | volume | tmpfs
    target: str
    source: str = ""  # host path (bind) or volume name (volume)
    read_only: bool = False
    # a tmpfs's options (docker's --tmpfs PATH:size=64m,mode=1777,exec): 0 is the default
    tmpfs_size: int = 0  # bytes; 0: the kernel's (half the memory, charged to the container)
    tmpfs_mode: int = 0  # 0: 1777
    tmpfs_exec: bool = False  # docker's default is noexec


@frozen
class ContainerConfig:
    """What the user asked for; combined with the image config at start."""

    image: str  # the reference as the user wrote it, shown by ps
    image_id: str  # sha256:<config digest>
    cmd: list[str] | None = None  # None: the image's Cmd
    entrypoint: list[str] | None = None  # None: the image's; []: none
    env: list[str] = field(default_factory=list)  # KEY=VALUE, over the image's
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    tty: bool = False
    open_stdin: bool = False
    # Docker's HostConfig.ConsoleSize: the client's terminal (rows, columns) at create,
    # the TTY's size before the process starts; (0, 0): none given
    console_size: tuple[int, int] = (0, 0)
    labels: dict[str, str] = field(default_factory=dict)
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    resources: Resources = field(default_factory=Resources)
    ports: list[PortBinding] = field(default_factory=list)
    publish_all: bool = False
    exposed_ports: list[str] = field(default_factory=list)  # --expose: "80/tcp", over the image's
    mounts: list[MountSpec] = field(default_factory=list)
    network: str = "default"  # default | bridge | none | host | <name>
    network_aliases: list[str] = field(default_factory=list)
    network_driver_opts: dict[str, str] = field(default_factory=dict)  # as asked (inspect)
    ipv4_address: str = ""  # its address on its own (user-defined) network; "": any
    ipv6_address: str = ""  # --ip6: its IPv6 address there (a network with IPv6); "": any
    links: list[str] = field(default_factory=list)  # legacy links, "NAME:ALIAS"
    stop_signal: str = ""  # "" : the image's StopSignal, else SIGTERM
    stop_timeout: int | None = None
    auto_remove: bool = False
    # Docker's HostConfig.SecurityOpt: "seccomp=unconfined", 'seccomp={"defaultAction":...}'
    security_opt: list[str] = field(default_factory=list)
    userns: str = ""  # "": remapped for a user, the host's for root; host; remap
    log_driver: str = ""  # json-file (the default) | local: both rotate as options say
    log_options: dict[str, str] = field(default_factory=dict)  # max-size, max-file
    # Docker's Config.Healthcheck (engine/containers/health.py); None: the image's
    healthcheck: Healthcheck | None = None
    # Docker's HostConfig fields of the same names (engine/containers/hostopts.py
    # parses and checks them; the helper applies them)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)  # "host:ip", as Docker keeps them
    cap_add: list[str] = field(default_factory=list)  # "CAP_NET_ADMIN", or "ALL"
    cap_drop: list[str] = field(default_factory=list)
    init: bool | None = None  # None: the default (no init)
    read_only: bool = False
    shm_size: int | None = None  # bytes; None: 64 MiB
    ulimits: list[Ulimit] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    devices: list[DeviceMapping] = field(default_factory=list)
    mac_address: str = ""
    group_add: list[str] = field(default_factory=list)  # docker's --group-add: names or ids
    isolation: str = ""  # "" or "default": Linux has one, kept as asked
    tmpfs_given: dict[str, str] = field(default_factory=dict)  # HostConfig.Tmpfs as asked
    volume_driver: str = ""  # as asked; only "local" makes volumes
    # its own network's endpoint (the API's EndpointsConfig): network-scoped links,
    # "NAME:ALIAS" (hosts entries while the linked container is there), and
    # link-local addresses its interface there gets too (IPAMConfig.LinkLocalIPs)
    network_links: list[str] = field(default_factory=list)
    network_link_local_ips: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContainerConfig:
        data = dict(data)
        data["restart_policy"] = RestartPolicy(**data.get("restart_policy", {}))
        data["resources"] = Resources(**data.get("resources", {}))
        data["ports"] = [PortBinding(**p) for p in data.get("ports", [])]
        data["mounts"] = [MountSpec(**m) for m in data.get("mounts", [])]
        data["ulimits"] = [Ulimit(**u) for u in data.get("ulimits", [])]
        data["devices"] = [DeviceMapping(**d) for d in data.get("devices", [])]
        if data.get("healthcheck"):  # its module only then: `ps` of most containers needs none
            from engine.containers.health import Healthcheck

            data["healthcheck"] = Healthcheck(**data["healthcheck"])
        if "console_size" in data:  # a JSON list
            data["console_size"] = tuple(data["console_size"])
        return _made(cls, data)


def _made(cls: type[ContainerConfig], data: dict[str, Any]) -> ContainerConfig:
    """``cls(**data)`` for the fields it has, without the generated __init__ of a frozen
    dataclass, which sets each of the 48 fields through object.__setattr__: from_json
    took ~4x as long with it (ps -a of 201 containers: ~3.5 ms more)."""
    config = object.__new__(cls)
    values = config.__dict__
    for spec in fields(cls):
        name = spec.name
        if name in data:
            values[name] = data[name]
        elif spec.default is not MISSING:
            values[name] = spec.default
        elif spec.default_factory is not MISSING:
            values[name] = spec.default_factory()
        else:
            raise TypeError(f"a container's config lacks {name!r}")
    return config
