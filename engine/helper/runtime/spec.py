"""The runtime spec: what the helper hands a container's monitor, and its files.

The helper builds it from a validated request and writes it into the
container's directory, a directory whose path it derived itself. The monitor
reads it after exec; nothing in it came from the caller unchecked.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.paths import changes_file  # the layout rule the engine shares

if TYPE_CHECKING:
    from engine.wire.containerspec import ContainerSpec

__all__ = ["Bind", "ContainerDir", "RuntimeSpec", "Userns", "announce_changes", "changes_file"]


@dataclass(frozen=True)
class Bind:
    """A mount the user asked for. The helper never opens a bind's ``source``: the
    engine opens it as the user at every start and hands over the descriptor."""

    type: str  # bind | volume | tmpfs | device (--device: a host node, in /dev)
    source: str  # bind, device: the host path as the user wrote it; volume: its name
    target: str
    read_only: bool = False
    permissions: str = ""  # a device's cgroup permissions: "rwm" (r, w, m)
    tmpfs: str = ""  # a tmpfs's mount options beyond Skiff's own: "size=N,mode=NNNN"
    tmpfs_exec: bool = False

    @property
    def copy_up(self) -> bool:
        """A volume is filled from the image's content at its target when empty."""
        return self.type == "volume"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bind:
        if "type" in data:
            return cls(**data)
        # Written before binds came as descriptors: {source, target, read_only, kind, copy_up}
        target, read_only = data["target"], bool(data.get("read_only"))
        if data.get("kind") == "tmpfs":
            return cls("tmpfs", "", target, read_only)
        if data.get("copy_up"):  # .../volumes/<name>/_data
            return cls("volume", Path(data["source"]).parent.name, target, read_only)
        return cls("bind", data["source"], target, read_only)


@dataclass(frozen=True)
class Userns:
    """The user namespace the container's processes run in (engine/helper/runtime/idmap.py)."""

    uid_map: list[list[int]]  # [inside, outside, count] lines
    gid_map: list[list[int]]
    layers: str = "idmapped"  # how image layers get the map's owners: idmapped | copy
    shifted_dir: str = ""  # copy: where this map's shifted copies of layers live


@dataclass(frozen=True)
class RuntimeSpec:
    id: str
    owner_uid: int
    args: list[str]
    env: list[str]
    cwd: str = "/"
    user: str = ""
    hostname: str = ""
    layers: list[str] = field(default_factory=list)  # diff_ids, base first
    layers_dir: str = ""
    memory: int | None = None
    nano_cpus: int | None = None
    pids_limit: int | None = None
    restart_policy: str = "no"
    restart_max: int = 0
    stop_signal: int = 15
    binds: list[Bind] = field(default_factory=list)
    network: str = "sandbox"  # how the init joins a network: host | sandbox (<dir>/netns)
    network_mode: str = "none"  # what the user asked: default | bridge | none | host | NAME
    ports: list[dict[str, Any]] = field(default_factory=list)  # to publish
    exposed: list[str] = field(default_factory=list)  # the image's, "80/tcp"
    aliases: list[str] = field(default_factory=list)
    name: str = ""
    image: str = ""  # the reference it was created from, named in its events
    tty: bool = False
    open_stdin: bool = False
    console_size: tuple[int, int] = (0, 0)  # the TTY's rows, columns at start; 0: unset
    log_max_size: int = 0  # rotate the log past this many bytes (0: never)
    log_max_files: int = 1  # files kept, the current one included
    log_discard: bool = False  # docker's "none" log driver: the output goes nowhere
    cgroup_parent: str = "skiff"
    # How device access is limited (engine/helper/runtime/devices.py): "cgroup" (the v1
    # devices controller) or "nodev" (nodev mounts, nodes bound from the host's /dev).
    devices: str = ""  # "": chosen at start (specs written before there was a choice)
    seccomp: str = "default"  # default | unconfined | a profile's JSON (Docker's format)
    userns: Userns | None = None  # None: the host's (root's containers, unless remapped)
    # The probe the monitor runs (engine/containers/health.py): args, interval, timeout,
    # start_period, start_interval (ns), retries; None: no healthcheck
    healthcheck: dict[str, Any] | None = None
    # Docker's host options (engine/wire/containerspec.py), checked at create by
    # engine/helper/runtime/hostlimits.py
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)  # "name:ip" (or host-gateway)
    capabilities: list[str] | None = None  # the set after --cap-add/--cap-drop; None: default
    init: bool = False  # a reaper as PID 1 (engine/helper/runtime/reaper.py)
    cpu_shares: int | None = None
    read_only: bool = False
    shm_size: int | None = None  # bytes; None: 64 MiB
    ulimits: list[dict[str, Any]] = field(default_factory=list)  # name, soft, hard
    sysctls: list[str] = field(default_factory=list)  # "name=value"
    mac_address: str = ""
    group_add: list[str] = field(default_factory=list)  # more groups: names or ids
    volatile: bool = False  # --rm: its overlay ignores syncs (mounts.plan_rootfs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_request(cls, id: str, owner_uid: int, request: ContainerSpec, *,
                     layers_dir: str, binds: list[Bind], cgroup_parent: str, seccomp: str,
                     devices: str, userns: Userns | None,
                     capabilities: tuple[str, ...] | None = None) -> RuntimeSpec:
        """The record of a new container: the caller's checked request (the protocol's
        ContainerSpec, engine/wire/containerspec.py) with its defaults applied, and
        what the helper decided (``binds`` checked, paths, owner, namespaces)."""
        return cls(
            id=id, owner_uid=owner_uid, args=request.args, env=request.env, cwd=request.cwd,
            user=request.user or "", hostname=request.hostname, layers=request.layers,
            layers_dir=layers_dir, memory=request.memory, nano_cpus=request.nano_cpus,
            pids_limit=request.pids_limit, restart_policy=request.restart_policy,
            restart_max=request.restart_max, stop_signal=request.stop_signal, binds=binds,
            network="host" if request.network_mode == "host" else "sandbox",
            network_mode=request.network_mode, ports=[asdict(p) for p in request.ports],
            exposed=request.exposed, aliases=request.aliases, name=request.name,
            image=request.image or "", cgroup_parent=cgroup_parent, tty=bool(request.tty),
            open_stdin=bool(request.open_stdin),
            console_size=(request.console_rows or 0, request.console_cols or 0),
            log_max_size=request.log_max_size or 0,
            log_max_files=request.log_max_files or 1, seccomp=seccomp, devices=devices,
            log_discard=bool(request.log_discard),
            userns=userns,
            healthcheck=None if request.healthcheck is None else asdict(request.healthcheck),
            dns=list(request.dns or []), dns_search=list(request.dns_search or []),
            dns_options=list(request.dns_options or []),
            extra_hosts=list(request.extra_hosts or []),
            capabilities=None if capabilities is None else list(capabilities),
            init=bool(request.init), cpu_shares=request.cpu_shares,
            read_only=bool(request.read_only), shm_size=request.shm_size,
            ulimits=[asdict(u) for u in request.ulimits or []],
            sysctls=list(request.sysctls or []), mac_address=request.mac_address or "",
            group_add=list(request.group_add or []),
            volatile=bool(request.auto_remove),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuntimeSpec:
        data = dict(data)
        data["binds"] = [Bind.from_json(b) for b in data.get("binds", [])]
        if data.get("userns"):
            data["userns"] = Userns(**data["userns"])
        if "console_size" in data:  # a JSON list
            data["console_size"] = tuple(data["console_size"])
        return cls(**data)


def user_file(path: Path) -> None:
    """Make ``users/<uid>/<name>`` unless it exists: root's, readable by that user alone.

    A failure leaves it root's alone (or absent): the user's engines then learn
    less or later, nobody else learns anything.
    """
    from engine.errors import SkiffError
    from engine.helper.privacy import private_file

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW,
                     0o600)
    except OSError:
        return  # there already, or the caller's own open will say why not
    try:
        private_file(fd, int(path.parent.name))
    except (OSError, ValueError, SkiffError):
        pass
    finally:
        os.close(fd)


def announce_changes(path: Path) -> None:
    """Wake the engines following events (see engine/changefeed.py).

    Opening for writing and closing is enough: they hear IN_CLOSE_WRITE. A
    failure only makes an event late (their safety look), never an error. The
    file (``users/<uid>/changes``) is readable by that user alone.
    """
    user_file(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW))
    except OSError:
        return


class ContainerDir:
    """The files of one container under the helper's root; paths derived here only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    spec = property(lambda self: self.path / "spec.json")
    status = property(lambda self: self.path / "status.json")
    log = property(lambda self: self.path / "ctr.log")
    # The container's files sit under fs/, mode 0700: a set-uid file that root in the
    # container writes must never be reachable by the owner through a host path.
    fs = property(lambda self: self.path / "fs")
    upper = property(lambda self: self.path / "fs" / "upper")
    work = property(lambda self: self.path / "fs" / "work")
    rootfs = property(lambda self: self.path / "fs" / "rootfs")
    netns = property(lambda self: self.path / "netns")
    seccomp = property(lambda self: self.path / "seccomp.bpf")  # the compiled filter
    stop_requested = property(lambda self: self.path / "stop-requested")
    paused = property(lambda self: self.path / "paused")
    hosts = property(lambda self: self.path / "hosts")
    hostname = property(lambda self: self.path / "hostname")
    resolv_conf = property(lambda self: self.path / "resolv.conf")
    empty_layer = property(lambda self: self.path / "fs" / "empty")
    lowers = property(lambda self: self.path / "fs" / "lower")  # idmapped layers' mountpoints
    userns = property(lambda self: self.path / "userns.json")  # for inspect: the map, the path
    changes = property(lambda self: changes_file(self.path.parent))
    # A run's legacy links (etcfiles.LINKS), written at its start: {"hosts", "env"}.
    links = property(lambda self: self.path / "links.json")

    def read_spec(self) -> RuntimeSpec:
        return RuntimeSpec.from_json(json.loads(self.spec.read_text()))

    def run_env(self, env: list[str]) -> list[str]:
        """The environment of this run's processes (its command, an exec, a health
        probe): its legacy links' variables under the container's own ``env``."""
        try:
            linked = [str(item) for item in json.loads(self.links.read_text())["env"]]
        except (OSError, ValueError, KeyError, TypeError):
            return env
        from engine.environ import merge_env

        return merge_env(linked, env) if linked else env

    def read_status(self) -> dict[str, Any]:
        from engine.wire.statusfile import read_status_dict

        return read_status_dict(self.status)

    def write_status(self, status: dict[str, Any]) -> None:
        self.write_json(self.status, status)
        self.announce()

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.paused.touch()
        else:
            try:
                self.paused.unlink()
            except FileNotFoundError:
                return
        self.announce()

    def announce(self) -> None:
        announce_changes(self.changes)

    def journal(self, action: str, **attributes: str) -> None:
        """Record a container event in the user's journal (engine/eventlog.py); the
        announce that follows the status write wakes the followers."""
        from engine.eventlog import append_event

        journal = self.changes.with_name("events.log")
        user_file(journal)  # a new one (also after a rotation) is the user's alone to read
        append_event(journal, "container", action, self.path.name, attributes, mode=0o640)

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        """Atomic: readers see the old or the new file, never half of one.

        On a full disk (a container's log filled it) the status must still be told:
        the file is then rewritten in place, in the blocks it already has, padded
        with spaces (still JSON) so it needs none new."""
        text = json.dumps(data).encode()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(text)
            os.chmod(tmp, 0o640)  # the owner reads it by the dir's default ACL, no one else
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.exists():
                raise
            fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                old = os.fstat(fd).st_size
                if len(text) > old and len(text) > 4096:
                    raise
                os.pwrite(fd, text + b" " * max(0, old - len(text)), 0)
            finally:
                os.close(fd)
