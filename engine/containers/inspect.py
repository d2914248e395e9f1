"""``docker inspect``'s shape for a container, so users' scripts carry over: the
document of engine/containers/details.py's ContainerDetails."""

from __future__ import annotations

from engine.containers.config import ContainerConfig, MountSpec
from engine.containers.details import ContainerDetails
from engine.containers.health import probe_request
from engine.containers.links import docker_links
from engine.wire.healthstate import HealthState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["container_inspect"]

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _capabilities(names: list[str]) -> list[str] | None:
    """``net_admin`` as ``CAP_NET_ADMIN``; None for none. The checks that come with
    normalising are ~8 ms of imports, which an inspect without capabilities skips."""
    if not names:
        return None
    from engine.containers.hostopts import normalize_capabilities

    return normalize_capabilities(names) or None


def _ports_key(port: int, protocol: str) -> str:
    return f"{port}/{protocol}"


def container_inspect(details: ContainerDetails) -> dict[str, Any]:
    container = details.container
    config: ContainerConfig = container.config
    state = container.state
    merged = details.effective
    args = details.args
    userns = details.userns
    port_bindings: dict[str, list[dict[str, str]]] = {}
    for binding in config.ports:
        port_bindings.setdefault(_ports_key(binding.container_port, binding.protocol), []).append(
            {"HostIp": binding.host_ip, "HostPort": str(binding.host_port or "")})
    res = config.resources
    status = state.status.value
    healthcheck = merged.healthcheck
    found: dict[str, Any] = {
        "Id": container.id,
        "Created": container.created,
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": {
            "Status": status,
            "Running": state.status.value in ("running", "paused", "restarting"),
            "Paused": status == "paused",
            "Restarting": status == "restarting",
            "OOMKilled": state.oom_killed,
            "Dead": status == "dead",
            "Pid": state.pid,
            "ExitCode": state.exit_code,
            "Error": state.error,
            "StartedAt": state.started_at or _ZERO_TIME,
            "FinishedAt": state.finished_at or _ZERO_TIME,
        },
        "Image": config.image_id,
        "ResolvConfPath": details.resolv_conf_path,
        "HostnamePath": details.hostname_path,
        "HostsPath": details.hosts_path,
        "LogPath": details.log_path,
        "Name": f"/{container.name}",
        "RestartCount": state.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": {
            "Binds": [f"{m.source}:{m.target}{':ro' if m.read_only else ''}"
                      for m in config.mounts if m.type == "bind"] or None,
            "NetworkMode": config.network if config.network != "default" else "bridge",
            "Links": docker_links(container.name, config.links),
            "PortBindings": port_bindings,
            "RestartPolicy": {"Name": config.restart_policy.name,
                              "MaximumRetryCount": config.restart_policy.maximum_retry_count},
            "AutoRemove": config.auto_remove,
            "ConsoleSize": list(config.console_size),
            "PublishAllPorts": config.publish_all,
            "Memory": res.memory or 0,
            "MemorySwap": (res.memory or 0) and res.memory,
            "NanoCpus": res.nano_cpus or 0,
            "CpuQuota": (res.nano_cpus or 0) // 10_000,
            "CpuPeriod": 100000 if res.nano_cpus else 0,
            "PidsLimit": res.pids_limit,
            # normalised as dockerd does since API 1.40: "CAP_NET_ADMIN"
            "CapAdd": _capabilities(config.cap_add),
            "CapDrop": _capabilities(config.cap_drop),
            "Dns": list(config.dns),
            "DnsOptions": list(config.dns_options),
            "DnsSearch": list(config.dns_search),
            "ExtraHosts": list(config.extra_hosts) or None,
            "GroupAdd": list(config.group_add) or None,
            "Isolation": config.isolation,
            **({"Tmpfs": dict(config.tmpfs_given)} if config.tmpfs_given else {}),
            "VolumeDriver": config.volume_driver,
            "CpuShares": res.cpu_shares or 0,
            "ShmSize": config.shm_size or 64 << 20,
            "Ulimits": [{"Name": u.name, "Soft": u.soft, "Hard": u.hard}
                        for u in config.ulimits],
            "Devices": [{"PathOnHost": d.path_on_host, "PathInContainer": d.path_in_container,
                         "CgroupPermissions": d.permissions} for d in config.devices],
            **({"Init": config.init} if config.init is not None else {}),
            **({"Sysctls": dict(config.sysctls)} if config.sysctls else {}),
            "Privileged": False,
            # Skiff's runtime answers to docker's default name; every container gets a
            # cgroup namespace; swappiness is the kernel's (null, as dockerd on cgroup v2)
            "Runtime": "runc",
            "CgroupnsMode": "private",
            "MemorySwappiness": None,
            "ReadonlyRootfs": config.read_only,
            "SecurityOpt": list(config.security_opt) or None,
            "LogConfig": {"Type": config.log_driver or "json-file",
                          "Config": dict(config.log_options)},
            # Docker's: "" or "host"; "remap" when the container runs in a user namespace
            "UsernsMode": "remap" if userns else config.userns,
            "IDMappings": {"UidMap": list(userns.uid_map), "GidMap": list(userns.gid_map)}
            if userns else None,
            "Mounts": [_host_mount(m) for m in config.mounts] or None,
            "MaskedPaths": [
                "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                "/sys/devices/virtual/powercap"],
            "ReadonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
        # UsernsLayers: how the image's layers got the map's owners, idmapped mounts of
        # the shared layers or (kernels before 5.19) the user's shifted copies of them
        "GraphDriver": {"Name": "overlay2",
                        "Data": {"UsernsLayers": userns.layers} if userns else None},
        "Mounts": [m.docker_json() for m in details.mounts],
        "Config": {
            "Hostname": config.hostname or container.id[:12],
            "Domainname": "",
            "User": merged.user,
            "AttachStdin": config.open_stdin,
            "AttachStdout": True,
            "AttachStderr": True,
            "ExposedPorts": {key: {} for key in merged.exposed_ports} or None,
            "Tty": config.tty,
            "OpenStdin": config.open_stdin,
            "StdinOnce": False,
            "Env": details.env,
            "Cmd": merged.cmd,
            "Image": config.image,
            "Volumes": {path: {} for path in merged.volumes} or None,
            "WorkingDir": merged.working_dir,
            "Entrypoint": merged.entrypoint or None,
            "OnBuild": None,
            "Labels": merged.labels,
            "StopSignal": merged.stop_signal or None,
            "StopTimeout": config.stop_timeout,
            **({"MacAddress": config.mac_address} if config.mac_address else {}),
            **({"Healthcheck": healthcheck.to_docker()} if healthcheck else {}),
        },
        "NetworkSettings": details.network.docker_json(),
    }
    if probe_request(healthcheck) is not None and state.started_at:
        # Docker shows it once the container started with a healthcheck
        health = state.health or HealthState("unhealthy" if not state.running else "starting")
        found["State"]["Health"] = health.to_docker()
    return found


def signal_name(number: int) -> str:
    import signal  # here: its enums' set-up is ~0.5 ms of a first `skiff inspect`

    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


__all__ += ["signal_name"]


def _host_mount(mount: MountSpec) -> dict[str, Any]:
    """HostConfig.Mounts's entry, with docker's TmpfsOptions where a tmpfs has some."""
    entry: dict[str, Any] = {"Type": mount.type, "Source": mount.source,
                             "Target": mount.target, "ReadOnly": mount.read_only}
    options = {**({"SizeBytes": mount.tmpfs_size} if mount.tmpfs_size else {}),
               **({"Mode": mount.tmpfs_mode} if mount.tmpfs_mode else {})}
    if options:
        entry["TmpfsOptions"] = options
    return entry
