"""The Settings tab's form as plain data, and the container config it stands for.

``form_from_config`` fills the form; ``config_from_form`` checks what the user
typed and builds the new config, raising InvalidArgument with a sentence that
names the field. No Qt: the rules are tested on their own.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from engine import (
    RESTART_POLICIES,
    ContainerConfig,
    InvalidArgument,
    MountSpec,
    PortBinding,
    Resources,
    RestartPolicy,
    check_container_name,
    check_resources,
    format_cpus,
    format_ram,
    parse_cpus,
    parse_ram,
    port_binding,
    volume_mount,
)

__all__ = ["SettingsForm", "check_name", "config_from_form", "form_from_config"]

_ENV_KEY = re.compile(r"^[^=\s]+$")
T = TypeVar("T")


@dataclass
class SettingsForm:
    name: str = ""
    env: list[tuple[str, str]] = field(default_factory=list)
    # container port, protocol, host address, host port ("" or "0": any free port)
    ports: list[tuple[str, str, str, str]] = field(default_factory=list)
    # host folder or volume name ("" for an anonymous volume), path in the container, read-only
    volumes: list[tuple[str, str, bool]] = field(default_factory=list)
    network: str = "bridge"
    restart: str = "no"
    max_retries: int = 0
    memory: str = ""  # 512m, 2g; "" unlimited
    cpus: str = ""  # 1.5; "" unlimited
    pids: str = ""  # "" unlimited
    command: str = ""  # shell words; "" the image's command


def check_name(name: str) -> str:
    """The typed name without surrounding blanks, by the engine's one name rule."""
    return check_container_name(name.strip())


def form_from_config(name: str, config: ContainerConfig) -> SettingsForm:
    env = []
    for item in config.env:
        key, _, value = item.partition("=")
        env.append((key, value))
    ports = [(str(p.container_port), p.protocol, p.host_ip,
              str(p.host_port) if p.host_port else "") for p in config.ports]
    volumes = [(m.source, m.target, m.read_only) for m in config.mounts]
    resources = config.resources
    cpus = format_cpus(resources.nano_cpus) if resources.nano_cpus else ""
    return SettingsForm(
        name=name, env=env, ports=ports, volumes=volumes,
        network="bridge" if config.network in ("default", "") else config.network,
        restart=config.restart_policy.name,
        max_retries=config.restart_policy.maximum_retry_count,
        memory=format_ram(resources.memory) if resources.memory else "", cpus=cpus,
        pids=str(resources.pids_limit) if resources.pids_limit else "",
        command=shlex.join(config.cmd) if config.cmd is not None else "")


def config_from_form(base: ContainerConfig, form: SettingsForm) -> ContainerConfig:
    """The config ``base`` with the form's values; raises InvalidArgument."""
    env = []
    for key, value in form.env:
        key = key.strip()
        if not key and not value:
            continue
        if not _ENV_KEY.match(key):
            raise InvalidArgument(f"environment variable {key!r} needs a name without "
                                  "spaces or '='")
        env.append(f"{key}={value}")
    ports = [_port(*row) for row in form.ports if any(str(v).strip() for v in row)]
    mounts = [_mount(source, target, read_only, base)
              for source, target, read_only in form.volumes if source.strip() or target.strip()]
    if form.restart not in RESTART_POLICIES:
        raise InvalidArgument(f"restart policy {form.restart!r} is unknown: use "
                              + ", ".join(RESTART_POLICIES))
    retries = form.max_retries if form.restart == "on-failure" else 0
    if retries < 0:
        raise InvalidArgument("the maximum retry count must be 0 or more")
    memory = _field("memory limit",
                    lambda: parse_ram(form.memory.strip()) if form.memory.strip() else None)
    nano_cpus = _field("CPUs",
                       lambda: parse_cpus(form.cpus.strip()) if form.cpus.strip() else None)
    pids = None
    if form.pids.strip():
        if not form.pids.strip().isdigit() or int(form.pids) <= 0:
            raise InvalidArgument(f"the process limit {form.pids!r} must be a whole number "
                                  "above 0 (leave it empty for no limit)")
        pids = int(form.pids)
    try:
        cmd = shlex.split(form.command) if form.command.strip() else None
    except ValueError as exc:
        raise InvalidArgument(f"the command cannot be read: {exc} (check the quotes)") \
            from None
    network = form.network.strip() or "bridge"
    if network == "bridge" and base.network in ("default", ""):
        network = base.network  # the same network by the name the CLI shows: no change
    resources = Resources(memory=memory, nano_cpus=nano_cpus or None, pids_limit=pids)
    check_resources(resources)
    return replace(base, env=env, ports=ports, mounts=mounts, network=network,
                   restart_policy=RestartPolicy(form.restart, retries), resources=resources,
                   cmd=cmd)


def _field(what: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except InvalidArgument as exc:
        raise InvalidArgument(f"{what}: {exc}") from None


def _port(container: str, protocol: str, host_ip: str, host_port: str) -> PortBinding:
    return _field("port", lambda: port_binding(container, protocol, host_ip, host_port))


def _mount(source: str, target: str, read_only: bool, base: ContainerConfig) -> MountSpec:
    """A row as ``-v`` reads it (no source: an anonymous volume); a tmpfs the container
    already has at that path (``--mount type=tmpfs``, shown with no source) stays one."""
    source, target = source.strip(), target.strip()
    if not source and any(m.type == "tmpfs" and m.target == target for m in base.mounts):
        return MountSpec("tmpfs", target, "", read_only)
    return _field("volume", lambda: volume_mount(source, target, read_only))
