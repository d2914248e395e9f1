"""A ``POST /containers/create`` body (Docker's Config, HostConfig and
NetworkingConfig) read into the engine's ContainerConfig.

Pure: no engine, no I/O, so every rule here is tested without root. Fields
dockerd knows that Skiff has no use for are ignored as dockerd ignores unknown
ones; fields that ask for something Skiff cannot do (privileged containers,
devices...) are refused with a message naming the field,
rather than silently run without it. A zero value (false, 0, "", [], {}) never
counts as asking: clients send those for everything they leave unset.
"""

from __future__ import annotations

from typing import Any

from app.api.backend import (
    ContainerConfig,
    DeviceMapping,
    Healthcheck,
    MountSpec,
    PortBinding,
    Resources,
    RestartPolicy,
    Ulimit,
    exposed_ports,
    parse_tmpfs,
    parse_volume,
    port_binding,
    signal_name,
)
from app.api.bodytypes import check_create_body
from app.api.errors import ApiError
from engine import InvalidArgument

__all__ = ["console_size", "container_config", "extra_endpoints"]

# Asked for (a truthy value), these are refused: Skiff cannot honour them.
_UNSUPPORTED_HOST = {
    "Privileged": "privileged containers could do on the host what their user cannot",
    "DeviceRequests": "there is no GPU or device request support",
    "DeviceCgroupRules": "containers get Docker's default devices only",
    "VolumesFrom": "use named volumes shared by the containers instead",
    "OomKillDisable": "the OOM killer cannot be disabled",
    "CpusetCpus": "CPU pinning is not supported: use NanoCpus",
    "CpusetMems": "memory node pinning is not supported",
    "BlkioWeight": "block I/O weights are not supported",
    "MemoryReservation": "soft memory limits are not supported: use Memory",
    "KernelMemory": "kernel memory limits are not supported",
    "StorageOpt": "storage options are not supported",
}
# Modes Skiff has one answer for: the listed values are fine, any other is refused.
_MODES = {
    "IpcMode": ("", "private", "shareable"),
    "PidMode": ("",),
    "UTSMode": ("",),
    "CgroupnsMode": ("", "private"),
    "Cgroup": ("",),
    "Isolation": ("", "default"),
    "Runtime": ("", "runc", "skiff"),
}
#: dockerd's own log drivers: any other name is no driver at all.
_DOCKER_LOG_DRIVERS = ("none", "json-file", "local", "syslog", "journald", "gelf", "fluentd",
                       "awslogs", "splunk", "etwlogs", "gcplogs", "logentries")
_UNSUPPORTED_CONFIG = {
    "OnBuild": "ONBUILD triggers belong to builds",
}


def _refuse(field: str, why: str) -> ApiError:
    return ApiError(400, f"{field} is not supported by Skiff: {why}")


def _check_unsupported(config: dict[str, Any], host: dict[str, Any]) -> None:
    for key, why in _UNSUPPORTED_HOST.items():
        if host.get(key):
            raise _refuse(f"HostConfig.{key}", why)
    for key, allowed in _MODES.items():
        if (host.get(key) or "") not in allowed:
            raise _refuse(f"HostConfig.{key}={host[key]!r}",
                          "use " + " or ".join(repr(v) for v in allowed if v) if
                          any(allowed) else "only the default is available")
    swap = host.get("MemorySwap") or 0
    if swap not in (0, -1) and swap != host.get("Memory"):
        raise _refuse("HostConfig.MemorySwap", "containers never swap beyond Memory")
    for key, why in _UNSUPPORTED_CONFIG.items():
        if config.get(key):
            raise _refuse(f"Config.{key}", why)


def _strings(value: Any, field: str) -> list[str] | None:
    """Docker's strslice: a string is one word (Cmd "echo hi" is ["echo hi"]? no:
    dockerd reads a JSON string as a one-element list)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ApiError(400, f"invalid {field}: expected a list of strings")


def _volume_driver(host: dict[str, Any], mounts: list[MountSpec]) -> str:
    """``HostConfig.VolumeDriver``, kept as dockerd keeps it; only the local driver
    makes volumes, so another one is refused when a named volume would need it."""
    driver = str(host.get("VolumeDriver") or "")
    if driver not in ("", "local") and any(m.type == "volume" for m in mounts):
        raise ApiError(404, f'error looking up volume plugin {driver}: plugin "{driver}" '
                            "not found")
    return driver


def _int(value: Any, field: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"invalid {field}: expected a number")
    return value


def _ports(bindings: Any) -> list[PortBinding]:
    """``HostConfig.PortBindings``, each checked by the engine's one port rule."""
    found: list[PortBinding] = []
    for key, hosts in (bindings or {}).items():
        for host in hosts or [{}]:
            host_port_text = str((host or {}).get("HostPort") or "0")
            first, _, last = host_port_text.partition("-")
            if last and last != first:
                raise _refuse(f"HostConfig.PortBindings host port range {host_port_text}",
                              "publish one host port per container port")
            try:
                found.append(port_binding(str(key), "tcp", str((host or {}).get("HostIp") or ""),
                                          first))
            except InvalidArgument as exc:
                raise ApiError(400, f"{exc} in HostConfig.PortBindings") from None
    return found


def _bind(text: str) -> MountSpec:
    """``HostConfig.Binds``: docker's ``-v`` syntax, read by the engine's one mount rule."""
    try:
        return parse_volume(text)
    except InvalidArgument as exc:
        raise ApiError(400, str(exc)) from None


def _exposed(value: Any) -> list[str]:
    """``Config.ExposedPorts``: {"80/tcp": {}}; the CLI sends -p's ports there too."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ApiError(400, "invalid ExposedPorts: expected an object")
    try:
        return exposed_ports(str(text) for text in value)
    except InvalidArgument as exc:
        raise ApiError(400, str(exc)) from None


def _tmpfs(text: str) -> MountSpec:
    """``HostConfig.Tmpfs``: docker's ``--tmpfs`` options, read by the engine's rule."""
    try:
        return parse_tmpfs(text)
    except InvalidArgument as exc:
        raise ApiError(400, str(exc)) from None


def _mount(spec: Any) -> MountSpec:
    if not isinstance(spec, dict):
        raise ApiError(400, "invalid HostConfig.Mounts entry: expected an object")
    kind = spec.get("Type") or "volume"
    target = spec.get("Target") or ""
    source = spec.get("Source") or ""
    if kind not in ("bind", "volume", "tmpfs"):
        raise _refuse(f"mount type {kind!r}", "use bind, volume or tmpfs")
    if not target.startswith("/"):
        raise ApiError(400, f"invalid mount config: the target {target!r} must be an "
                            "absolute path")
    if kind == "bind" and not source.startswith("/"):
        raise ApiError(400, "invalid mount config for type \"bind\": the source must be an "
                            "absolute path")
    driver = ((spec.get("VolumeOptions") or {}).get("DriverConfig") or {}).get("Name")
    if driver not in (None, "", "local"):
        raise _refuse(f"volume driver {driver!r}", "volumes are local")
    tmpfs = spec.get("TmpfsOptions") or {}
    if not isinstance(tmpfs, dict):
        raise ApiError(400, "invalid TmpfsOptions: expected an object")
    size, mode = tmpfs.get("SizeBytes") or 0, tmpfs.get("Mode") or 0
    if not isinstance(size, int) or size < 0 or not isinstance(mode, int) or \
            not 0 <= mode <= 0o7777:
        raise ApiError(400, "invalid TmpfsOptions: SizeBytes and Mode are numbers")
    if kind != "tmpfs" and tmpfs:
        raise ApiError(400, "invalid mount config: TmpfsOptions are for tmpfs mounts")
    return MountSpec(kind, target, source if kind != "tmpfs" else "",
                     bool(spec.get("ReadOnly")), tmpfs_size=size, tmpfs_mode=mode)


def _mounts(config: dict[str, Any], host: dict[str, Any]) -> list[MountSpec]:
    mounts = [_bind(text) for text in host.get("Binds") or []]
    mounts += [_mount(spec) for spec in host.get("Mounts") or []]
    tmpfs = host.get("Tmpfs") or {}
    if not isinstance(tmpfs, dict):
        raise ApiError(400, "invalid HostConfig.Tmpfs: expected an object")
    mounts += [_tmpfs(f"{target}:{options}" if options else str(target))
               for target, options in tmpfs.items()]
    taken = {m.target for m in mounts}
    # Config.Volumes: anonymous volumes, unless something else is mounted there
    mounts += [MountSpec("volume", target, "") for target in (config.get("Volumes") or {})
               if target not in taken]
    return mounts


def _resources(host: dict[str, Any]) -> Resources:
    memory = _int(host.get("Memory"), "HostConfig.Memory")
    nano = _int(host.get("NanoCpus"), "HostConfig.NanoCpus")
    quota = _int(host.get("CpuQuota"), "HostConfig.CpuQuota")
    period = _int(host.get("CpuPeriod"), "HostConfig.CpuPeriod")
    if quota > 0:
        if nano:
            raise ApiError(400, "conflicting options: NanoCpus and CpuQuota cannot both be set")
        nano = quota * 1_000_000_000 // (period or 100_000)
    pids = host.get("PidsLimit")
    pids_limit = pids if isinstance(pids, int) and pids > 0 else None
    shares = _int(host.get("CpuShares"), "HostConfig.CpuShares")
    return Resources(memory=memory or None, nano_cpus=nano or None, pids_limit=pids_limit,
                     cpu_shares=shares or None)


def _texts(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"invalid {field}: expected a list of strings")
    return list(value)


def _ulimits(value: Any) -> list[Ulimit]:
    """``HostConfig.Ulimits``: [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]."""
    found = []
    for item in value or []:
        if not isinstance(item, dict):
            raise ApiError(400, "invalid HostConfig.Ulimits entry: expected an object")
        found.append(Ulimit(str(item.get("Name") or ""),
                            _int(item.get("Soft"), "HostConfig.Ulimits.Soft"),
                            _int(item.get("Hard"), "HostConfig.Ulimits.Hard")))
    return found


def _sysctls(value: Any) -> dict[str, str]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "invalid HostConfig.Sysctls: expected an object")
    return {str(k): str(v) for k, v in value.items()}


def _devices(value: Any) -> list[DeviceMapping]:
    """``HostConfig.Devices``: [{"PathOnHost", "PathInContainer", "CgroupPermissions"}]."""
    found = []
    for item in value or []:
        if not isinstance(item, dict) or not item.get("PathOnHost"):
            raise ApiError(400, "invalid HostConfig.Devices entry: expected an object with "
                                "PathOnHost")
        host = str(item["PathOnHost"])
        found.append(DeviceMapping(host, str(item.get("PathInContainer") or host),
                                   str(item.get("CgroupPermissions") or "rwm")))
    return found


def _mac_address(body: dict[str, Any], host: dict[str, Any],
                 networking: dict[str, Any]) -> str:
    """Config.MacAddress (before API 1.44), or the container's own endpoint's."""
    own = _network(host, networking)[0]
    endpoint = (networking.get("EndpointsConfig") or {}).get(own) or {}
    value = endpoint.get("MacAddress") or body.get("MacAddress") or ""
    if not isinstance(value, str):
        raise ApiError(400, "invalid MacAddress: expected a string")
    return value


def _init(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ApiError(400, "invalid HostConfig.Init: expected true, false or null")


def console_size(value: Any) -> tuple[int, int]:
    """A ConsoleSize (create's HostConfig, exec's), [height, width], as Go reads it into
    a [2]uint (its types checked before): items past two are dropped, missing ones are 0."""
    sizes = [int(v) for v in (value or [])[:2]]
    sizes += [0] * (2 - len(sizes))
    return sizes[0], sizes[1]


def _stop_signal(value: Any) -> str:
    if not value:
        return ""
    try:
        return signal_name(str(value))
    except InvalidArgument as exc:
        raise ApiError(400, str(exc)) from None


def _network(host: dict[str, Any], networking: dict[str, Any]
             ) -> tuple[str, list[str], str, str]:
    """The container's own network, its aliases and IPv4 and IPv6 addresses there."""
    mode = host.get("NetworkMode") or "default"
    if mode.startswith("container:"):
        raise _refuse(f"HostConfig.NetworkMode={mode!r}",
                      "containers cannot share another container's network")
    endpoints = networking.get("EndpointsConfig") or {}
    if mode == "default" and endpoints:
        mode = next(iter(endpoints))
    endpoint = endpoints.get(mode) or {}
    aliases = [str(a) for a in endpoint.get("Aliases") or []]
    ipam = endpoint.get("IPAMConfig") or {}
    return mode, aliases, str(ipam.get("IPv4Address") or ""), str(ipam.get("IPv6Address") or "")


def _own_endpoint(networking: dict[str, Any], own: str) -> dict[str, Any]:
    endpoints = networking.get("EndpointsConfig") or {}
    return endpoints.get(own) or (endpoints.get("bridge") if own == "default" else None) or {}


def _scoped(endpoint: dict[str, Any]) -> tuple[list[str], list[str]]:
    """An endpoint's Links and IPAMConfig.LinkLocalIPs as given (the engine checks them)."""
    ipam = endpoint.get("IPAMConfig") or {}
    return ([str(k) for k in endpoint.get("Links") or []],
            [str(a) for a in ipam.get("LinkLocalIPs") or []])


def _driver_opts(host: dict[str, Any], networking: dict[str, Any], own: str) -> dict[str, str]:
    """The own endpoint's DriverOpts: the bridge driver has none of its own, dockerd
    keeps them for inspect."""
    options = _own_endpoint(networking, own).get("DriverOpts") or {}
    if not isinstance(options, dict):
        raise ApiError(400, "invalid EndpointSettings.DriverOpts: expected an object")
    return {str(k): str(v) for k, v in options.items()}


def extra_endpoints(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(network, engine.networks.connect's arguments) of each network the body asks for
    beyond the container's own: the engine connects them (compose sends every network
    of a service in EndpointsConfig from API 1.44 on)."""
    host = body.get("HostConfig") or {}
    networking = body.get("NetworkingConfig") or {}
    own = _network(host, networking)[0]
    found = []
    for name, endpoint in (networking.get("EndpointsConfig") or {}).items():
        if name == own or (name == "bridge" and own == "default"):
            continue
        endpoint = endpoint or {}
        ipam = endpoint.get("IPAMConfig") or {}
        links, link_local = _scoped(endpoint)
        found.append((str(name), {
            "aliases": [str(a) for a in endpoint.get("Aliases") or []],
            "ip": str(ipam.get("IPv4Address") or ""), "ip6": str(ipam.get("IPv6Address") or ""),
            "mac": str(endpoint.get("MacAddress") or ""), "links": links,
            "link_local_ips": link_local}))
    return found


def container_config(body: dict[str, Any]) -> ContainerConfig:
    """The ContainerConfig a create body asks for; ApiError when it cannot be had."""
    check_create_body(body)
    host = body.get("HostConfig") or {}
    networking = body.get("NetworkingConfig") or {}
    if not isinstance(host, dict) or not isinstance(networking, dict):
        raise ApiError(400, "invalid HostConfig or NetworkingConfig: expected objects")
    image = body.get("Image")
    if not image or not isinstance(image, str):
        raise ApiError(400, "config cannot be empty in order to create a container")
    _check_unsupported(body, host)
    restart = host.get("RestartPolicy") or {}
    try:
        policy = RestartPolicy.parse(restart.get("Name") or "no")
    except InvalidArgument as exc:
        raise ApiError(400, str(exc)) from None
    policy = RestartPolicy(policy.name, _int(restart.get("MaximumRetryCount"),
                                             "RestartPolicy.MaximumRetryCount"))
    if host.get("AutoRemove") and policy.name != "no":
        raise ApiError(400, "can't create 'AutoRemove' container with restart policy")
    log = host.get("LogConfig") or {}
    driver = log.get("Type") or ""
    if driver not in ("", "json-file", "local", "none"):
        if driver not in _DOCKER_LOG_DRIVERS:
            raise ApiError(400, f"logger: no log driver named '{driver}' is registered")
        raise _refuse(f"log driver {driver!r}", "use json-file, local or none")
    network, aliases, address, address6 = _network(host, networking)
    links, link_local = _scoped(_own_endpoint(networking, network))
    mounts = _mounts(body, host)
    entrypoint = _strings(body.get("Entrypoint"), "Entrypoint")
    if entrypoint == [""]:
        entrypoint = []  # docker's way to say "no entrypoint"
    stop_timeout = body.get("StopTimeout")
    health = body.get("Healthcheck")
    if health is not None and not isinstance(health, dict):
        raise ApiError(400, "invalid Healthcheck: expected an object")
    userns = host.get("UsernsMode") or ""
    if userns not in ("", "host", "remap"):
        raise _refuse(f"HostConfig.UsernsMode={userns!r}", "use host or leave it empty")
    return ContainerConfig(
        image=image,
        image_id="",
        cmd=_strings(body.get("Cmd"), "Cmd"),
        entrypoint=entrypoint,
        env=[str(e) for e in body.get("Env") or []],
        working_dir=str(body.get("WorkingDir") or ""),
        user=str(body.get("User") or ""),
        hostname=str(body.get("Hostname") or ""),
        tty=bool(body.get("Tty")),
        open_stdin=bool(body.get("OpenStdin")),
        console_size=console_size(host.get("ConsoleSize")),
        labels={str(k): str(v) for k, v in (body.get("Labels") or {}).items()},
        restart_policy=policy,
        resources=_resources(host),
        ports=_ports(host.get("PortBindings")),
        publish_all=bool(host.get("PublishAllPorts")),
        exposed_ports=_exposed(body.get("ExposedPorts")),
        mounts=mounts,
        network=network,
        network_aliases=aliases,
        ipv4_address=address,
        ipv6_address=address6,
        links=[str(link) for link in host.get("Links") or []],
        stop_signal=_stop_signal(body.get("StopSignal")),
        stop_timeout=stop_timeout if isinstance(stop_timeout, int) else None,
        auto_remove=bool(host.get("AutoRemove")),
        security_opt=[str(s) for s in host.get("SecurityOpt") or []],
        userns=userns,
        log_driver=driver,
        log_options={str(k): str(v) for k, v in (log.get("Config") or {}).items()},
        healthcheck=Healthcheck.from_docker(health) if health else None,
        dns=_texts(host.get("Dns"), "HostConfig.Dns"),
        dns_search=_texts(host.get("DnsSearch"), "HostConfig.DnsSearch"),
        dns_options=_texts(host.get("DnsOptions"), "HostConfig.DnsOptions"),
        extra_hosts=_texts(host.get("ExtraHosts"), "HostConfig.ExtraHosts"),
        cap_add=_texts(host.get("CapAdd"), "HostConfig.CapAdd"),
        cap_drop=_texts(host.get("CapDrop"), "HostConfig.CapDrop"),
        init=_init(host.get("Init")),
        read_only=bool(host.get("ReadonlyRootfs")),
        shm_size=_int(host.get("ShmSize"), "HostConfig.ShmSize") or None,
        ulimits=_ulimits(host.get("Ulimits")),
        sysctls=_sysctls(host.get("Sysctls")),
        devices=_devices(host.get("Devices")),
        mac_address=_mac_address(body, host, networking),
        group_add=_texts(host.get("GroupAdd"), "HostConfig.GroupAdd"),
        isolation=str(host.get("Isolation") or ""),
        tmpfs_given={str(k): str(v) for k, v in (host.get("Tmpfs") or {}).items()},
        network_driver_opts=_driver_opts(host, networking, network),
        volume_driver=_volume_driver(host, mounts),
        network_links=links, network_link_local_ips=link_local,
    )
