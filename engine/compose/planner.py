"""From a service in long form to the container the engine creates: config, name, labels.

Pure: the names and labels are Docker Compose's (``PROJECT-SERVICE-N``,
``com.docker.compose.project``, ``service``, ``container-number``,
``config-hash``, ``oneoff``...), so ``docker compose`` through ``skiff serve``
and ``skiff compose`` see the same project. The config hash is over the
service's model, so ``up`` recreates exactly the services whose model changed.
"""

from __future__ import annotations

from typing import Any

from engine.compose.durations import parse_size
from engine.compose.gojson import compose_hash
from engine.compose.labels import HASH, LABEL, NUMBER, ONEOFF, PROJECT, SERVICE, VERSION
from engine.compose.loader import Project
from engine.containers.config import (
    ContainerConfig,
    DeviceMapping,
    MountSpec,
    PortBinding,
    Resources,
    RestartPolicy,
    Ulimit,
)
from engine.containers.health import Healthcheck
from engine.containers.mountspec import parse_tmpfs
from engine.containers.portspec import exposed_ports
from engine.errors import InvalidArgument

__all__ = ["LABEL", "config_hash", "container_config", "container_name", "ignored_fields",
           "labels_of"]


# What a service's container is made from; other fields are told as ignored.
APPLIED = {"image", "build", "command", "entrypoint", "environment", "env_file", "working_dir",
           "user", "hostname", "tty", "stdin_open", "labels", "restart", "mem_limit", "cpus",
           "pids_limit", "deploy", "scale", "ports", "expose", "volumes", "tmpfs", "networks",
           "network_mode", "depends_on", "healthcheck", "stop_signal", "stop_grace_period",
           "security_opt", "logging", "container_name", "profiles", "pull_policy", "platform",
           "dns", "dns_search", "dns_opt", "extra_hosts", "cap_add", "cap_drop", "init",
           "read_only", "shm_size", "ulimits", "sysctls", "cpu_shares", "devices",
           "mac_address", "links", "group_add"}
_DEPLOY_APPLIED = {"replicas", "resources"}


def ignored_fields(service: dict[str, Any]) -> list[str]:
    """The fields Skiff cannot apply yet (x- extensions are never applied, by the spec)."""
    ignored = [k for k in service if k not in APPLIED and not k.startswith("x-")]
    deploy = service.get("deploy") or {}
    ignored += [f"deploy.{k}" for k in deploy if k not in _DEPLOY_APPLIED]
    resources = deploy.get("resources") or {}
    ignored += [f"deploy.resources.{k}" for k in resources if k != "limits"]
    return ignored


def config_hash(service: dict[str, Any]) -> str:
    """Compose's config-hash, byte for byte (engine/compose/gojson.py)."""
    return compose_hash(service)


def container_name(project: Project, service: str, number: int, oneoff: str = "") -> str:
    explicit = project.services[service].get("container_name")
    if explicit and not oneoff:
        return str(explicit)
    if oneoff:
        return f"{project.name}-{service}-run-{oneoff}"
    return f"{project.name}-{service}-{number}"


def labels_of(project: Project, service: str, number: int, oneoff: bool = False,
              image_id: str = "") -> dict[str, str]:
    """Compose's labels; ``image`` is the image's ID, which Compose compares (with the
    config hash) to decide whether a container is up to date."""
    spec = project.services[service]
    return {
        **(spec.get("labels") or {}),
        PROJECT: project.name,
        SERVICE: service,
        NUMBER: str(number),
        ONEOFF: "True" if oneoff else "False",
        HASH: config_hash(spec),
        f"{LABEL}.project.working_dir": str(project.directory),
        f"{LABEL}.project.config_files": ",".join(str(f) for f in project.files),
        f"{LABEL}.depends_on": ",".join(
            f"{dep}:{d.get('condition', 'service_started')}:{str(d.get('restart', False)).lower()}"
            for dep, d in sorted((spec.get("depends_on") or {}).items())),
        f"{LABEL}.image": image_id,
        f"{LABEL}.version": VERSION,
    }


def _duration_ns(value: Any, where: str) -> int:
    from engine.compose.durations import parse_compose_duration

    return parse_compose_duration(value, where)


def _exposed(value: Any, where: str) -> list[str]:
    try:
        return exposed_ports(_strings(value))
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}.expose: {exc}") from None


def _healthcheck(spec: dict[str, Any] | None, where: str) -> Healthcheck | None:
    if spec is None:
        return None
    if spec.get("disable"):
        return Healthcheck(["NONE"])
    test = spec.get("test") or []
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    times = {k: _duration_ns(spec.get(k) or 0, f"{where}.{k}")
             for k in ("interval", "timeout", "start_period", "start_interval")}
    return Healthcheck(list(test), retries=int(spec.get("retries") or 0), **times)


def _memory(value: Any, where: str) -> int | None:
    from engine.compose.durations import parse_size

    return parse_size(value, where) if value not in (None, "", 0) else None


def _strings(value: Any) -> list[str]:
    """A string or a list of them (dns, dns_search...)."""
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _ulimits(value: Any, where: str) -> list[Ulimit]:
    """``nofile: 1024`` or ``nofile: {soft: 512, hard: 1024}``."""
    from engine.containers.hostopts import check_ulimit

    found = []
    for name, limit in (value or {}).items():
        if isinstance(limit, dict):
            soft, hard = int(limit["soft"]), int(limit["hard"])
        else:
            soft = hard = int(limit)
        try:
            found.append(check_ulimit(Ulimit(str(name), soft, hard)))
        except InvalidArgument as exc:
            raise InvalidArgument(f"{where}.ulimits: {exc}") from None
    return found


def _sysctls(value: Any) -> dict[str, str]:
    """A mapping or a ``name=value`` list."""
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    return dict(str(item).partition("=")[::2] for item in value or [])


def _host_options(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """ContainerConfig's Docker host options from a service's fields of the same job."""
    from engine.compose.durations import parse_size
    from engine.containers.hostopts import parse_extra_host

    try:
        extra_hosts = [parse_extra_host(h) for h in _strings(spec.get("extra_hosts"))]
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}.extra_hosts: {exc}") from None
    shm = spec.get("shm_size")
    return {
        "dns": _strings(spec.get("dns")), "dns_search": _strings(spec.get("dns_search")),
        "dns_options": _strings(spec.get("dns_opt")), "extra_hosts": extra_hosts,
        "cap_add": _strings(spec.get("cap_add")), "cap_drop": _strings(spec.get("cap_drop")),
        "init": spec.get("init"), "read_only": bool(spec.get("read_only")),
        "shm_size": parse_size(shm, f"{where}.shm_size") if shm not in (None, "", 0) else None,
        "ulimits": _ulimits(spec.get("ulimits"), where),
        "sysctls": _sysctls(spec.get("sysctls")),
        "devices": _devices(spec.get("devices"), where),
        "mac_address": str(spec.get("mac_address") or ""),
        "group_add": [str(group) for group in spec.get("group_add") or []],
    }


def _devices(value: Any, where: str) -> list[DeviceMapping]:
    """``/dev/x[:/dev/y[:rwm]]`` or ``{source, target, permissions}``."""
    from engine.containers.hostopts import check_device, parse_device

    found = []
    for item in value or []:
        try:
            if isinstance(item, dict):
                source = str(item["source"])
                found.append(check_device(DeviceMapping(
                    source, str(item.get("target") or source),
                    str(item.get("permissions") or "rwm"))))
            else:
                found.append(parse_device(str(item)))
        except InvalidArgument as exc:
            raise InvalidArgument(f"{where}.devices: {exc}") from None
    return found


def container_config(project: Project, service: str, image_id: str,
                     command: list[str] | None = None, oneoff: bool = False,
                     number: int = 1, use_aliases: bool = False,
                     service_ports: bool = False) -> ContainerConfig:
    """The container of ``service``; a one-off (``compose run``) has no restart policy,
    no published ports unless ``service_ports`` and, unless ``use_aliases``, none of the
    service's network aliases: it answers to its own name only, as docker compose's run
    containers do."""
    spec = project.services[service]
    where = f"services.{service}"
    limits = ((spec.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    memory = _memory(spec.get("mem_limit") or limits.get("memory"), f"{where}.mem_limit")
    cpus = spec.get("cpus") or limits.get("cpus")
    pids = spec.get("pids_limit") or limits.get("pids")
    restart = RestartPolicy.parse(str(spec.get("restart") or "no")) if not oneoff \
        else RestartPolicy()
    ports = [] if oneoff and not service_ports else [
        PortBinding(int(p["target"]), str(p.get("protocol") or "tcp"),
                    str(p.get("host_ip") or ""), int(p.get("published") or 0))
        for p in spec.get("ports") or []]
    mounts = []
    for volume in spec.get("volumes") or []:
        source = str(volume.get("source") or "")
        if volume["type"] == "volume" and source:
            source = project.volumes[source]["name"]
        if volume["type"] not in ("volume", "bind", "tmpfs"):
            raise InvalidArgument(f"{where}.volumes: type {volume['type']} is not supported")
        tmpfs = volume.get("tmpfs") or {}
        size = tmpfs.get("size")
        mounts.append(MountSpec(volume["type"], str(volume["target"]), source,
                                bool(volume.get("read_only")),
                                tmpfs_size=parse_size(size, f"{where}.volumes.tmpfs.size")
                                if size not in (None, "", 0) else 0,
                                tmpfs_mode=int(tmpfs.get("mode") or 0)))
    for text in spec.get("tmpfs") or []:
        mounts.append(parse_tmpfs(str(text)))
    networks = spec.get("networks") or {"default": None}
    first = next(iter(networks))
    # as docker compose: the container's own name, then the service's aliases
    aliases = [] if oneoff else [container_name(project, service, number)]
    if use_aliases or not oneoff:
        aliases += [service, *((networks[first] or {}).get("aliases") or [])]
    address = str((networks[first] or {}).get("ipv4_address") or "")
    address6 = str((networks[first] or {}).get("ipv6_address") or "")
    network = str(project.networks[first]["name"]) if first in project.networks else ""
    mode = str(spec.get("network_mode") or "")
    if mode:
        if mode not in ("host", "none", "bridge"):
            raise InvalidArgument(f"{where}.network_mode: {mode} is not supported (use host, "
                                  "none, bridge or networks)")
        network, aliases, address, address6 = mode, [], "", ""
    stop_grace = spec.get("stop_grace_period")
    logging = spec.get("logging") or {}
    env = [f"{k}={v}" for k, v in (spec.get("environment") or {}).items() if v is not None]
    return ContainerConfig(
        image=str(spec.get("image") or f"{project.name}-{service}"),
        image_id=image_id,
        cmd=command if command is not None else spec.get("command"),
        entrypoint=spec.get("entrypoint"),
        env=env,
        working_dir=str(spec.get("working_dir") or ""),
        user=str(spec.get("user") or ""),
        hostname=str(spec.get("hostname") or ""),
        tty=bool(spec.get("tty")),
        open_stdin=bool(spec.get("stdin_open")),
        labels=labels_of(project, service, number, oneoff, image_id),
        restart_policy=restart,
        resources=Resources(memory=memory,
                            nano_cpus=round(float(cpus) * 1e9) if cpus else None,
                            pids_limit=int(pids) if pids and int(pids) > 0 else None,
                            cpu_shares=int(spec["cpu_shares"]) if spec.get("cpu_shares")
                            else None),
        ports=ports,
        exposed_ports=_exposed(spec.get("expose"), where),
        mounts=mounts,
        network=network,
        network_aliases=aliases,
        ipv4_address=address,
        ipv6_address=address6,
        links=[f"{container_name(project, linked, 1)}:{alias or linked}"
               for linked, _, alias in (str(x).partition(":")
                                        for x in spec.get("links") or [])
               if linked in project.services],
        stop_signal=str(spec.get("stop_signal") or ""),
        stop_timeout=_duration_ns(stop_grace, f"{where}.stop_grace_period") // 1_000_000_000
        if stop_grace else None,
        security_opt=[str(o) for o in spec.get("security_opt") or []],
        log_driver=str(logging.get("driver") or ""),
        log_options={str(k): str(v) for k, v in (logging.get("options") or {}).items()},
        healthcheck=_healthcheck(spec.get("healthcheck"), f"{where}.healthcheck"),
        **_host_options(spec, where),
    )
