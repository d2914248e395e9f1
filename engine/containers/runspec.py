"""The request the helper receives to create a container: its config merged with
its image's (engine.containers.imageconfig), checked, as the protocol's typed
ContainerSpec (engine/wire/containerspec.py).

Pure functions.
"""

from __future__ import annotations

from typing import Any

from engine.containers.checks import PUBLISHED_PROTOCOLS, check_config, check_user
from engine.containers.config import ContainerConfig
from engine.containers.health import probe_request
from engine.containers.imageconfig import merge_config
from engine.containers.securityopt import seccomp_request
from engine.errors import InvalidArgument
from engine.images.model import Image
from engine.signals import parse_signal
from engine.wire.containerspec import (
    ContainerSpec,
    DeviceSpec,
    HealthSpec,
    MountSpec,
    PortSpec,
    UlimitSpec,
)

# parse_signal: engine.signals', named here for the engine's callers of runspec.parse_signal
__all__ = ["command_line", "container_spec", "parse_signal"]


def command_line(config: ContainerConfig, image: Image) -> list[str]:
    """Entrypoint + Cmd as Docker merges them (engine.containers.imageconfig)."""
    return merge_config(config, image.run_config).args


def published_ports(config: ContainerConfig, image: Image) -> list[PortSpec]:
    """-p bindings, plus with -P every exposed port (the image's and --expose's) on a
    random host port."""
    ports = [PortSpec(container_port=p.container_port, protocol=p.protocol,
                      host_ip=p.host_ip, host_port=p.host_port) for p in config.ports]
    if config.publish_all:
        taken = {(p.container_port, p.protocol) for p in ports}
        for key in [*(image.run_config.get("ExposedPorts") or {}), *config.exposed_ports]:
            number, _, protocol = key.partition("/")
            if number.isdigit() and (int(number), protocol or "tcp") not in taken \
                    and (protocol or "tcp") in PUBLISHED_PROTOCOLS:
                ports.append(PortSpec(container_port=int(number), protocol=protocol or "tcp",
                                      host_ip="", host_port=0))
    return ports


def container_spec(container_id: str, config: ContainerConfig, image: Image,
                   name: str = "") -> ContainerSpec:
    """What ``container_create`` asks of the helper for this config and image."""
    check_config(config)
    run = image.run_config
    merged = merge_config(config, run)
    if not config.user:
        check_user(merged.user, "user in the image's config")
    args = merged.args
    if not args:
        raise InvalidArgument("No command specified")
    working_dir = merged.working_dir or "/"
    if not working_dir.startswith("/"):
        raise InvalidArgument(f"the working directory '{working_dir}' is invalid: it needs to "
                              "be an absolute path")
    stop_signal = parse_signal(merged.stop_signal or "SIGTERM")
    binds = [MountSpec(type=m.type, source=m.source, target=m.target, read_only=m.read_only,
                       tmpfs_size=m.tmpfs_size or None, tmpfs_mode=m.tmpfs_mode or None,
                       tmpfs_exec=m.tmpfs_exec or None)
             for m in config.mounts]
    res = config.resources
    # with a TTY, its size before the process starts; none: 0x0 until the first resize
    rows, cols = config.console_size if config.tty and all(config.console_size) else (0, 0)
    log_max_size, log_max_files = _log_limits(config)
    health = probe_request(merged.healthcheck, run.get("Shell"))
    return ContainerSpec(
        args=args,
        env=merged.env,
        cwd=working_dir,
        user=merged.user,
        hostname=config.hostname or container_id[:12],
        layers=[layer.diff_id for layer in image.layers],
        memory=res.memory,
        nano_cpus=res.nano_cpus,
        pids_limit=res.pids_limit,
        restart_policy=config.restart_policy.name,
        restart_max=config.restart_policy.maximum_retry_count,
        stop_signal=stop_signal,
        binds=binds,
        network_mode=config.network or "default",
        ports=published_ports(config, image),
        # an image may expose sctp too; the helper records what it can publish
        exposed=[p for p in merged.exposed_ports if p.partition("/")[2] in PUBLISHED_PROTOCOLS],
        aliases=list(config.network_aliases),
        name=name,
        image=config.image,
        log_max_size=log_max_size,
        log_max_files=log_max_files,
        log_discard=config.log_driver == "none" or None,
        auto_remove=config.auto_remove or None,
        tty=config.tty,
        open_stdin=config.open_stdin,
        console_rows=min(rows, 65535) or None,  # a winsize holds no more
        console_cols=min(cols, 65535) or None,
        seccomp=seccomp_request(config.security_opt),
        userns=config.userns,
        healthcheck=None if health is None else HealthSpec(**health),
        **host_options(config),
    )


def host_options(config: ContainerConfig) -> dict[str, Any]:
    """ContainerSpec's fields for Docker's host options (engine/containers/hostopts.py);
    each left out (None) when not asked for, so the helper applies its default."""
    from engine.containers.hostopts import normalize_capabilities, parse_extra_host

    shares = config.resources.cpu_shares
    options: dict[str, Any] = {
        "dns": list(config.dns), "dns_search": list(config.dns_search),
        "dns_options": list(config.dns_options),
        "extra_hosts": [parse_extra_host(h) for h in config.extra_hosts],
        "cap_add": normalize_capabilities(config.cap_add),
        "cap_drop": normalize_capabilities(config.cap_drop),
        "init": config.init or None, "read_only": config.read_only or None,
        "cpu_shares": max(2, min(shares, 262144)) if shares else None,
        "shm_size": config.shm_size or None,
        "ulimits": [UlimitSpec(name=u.name, soft=u.soft, hard=u.hard) for u in config.ulimits],
        "sysctls": [f"{k}={v}" for k, v in config.sysctls.items()],
        "group_add": list(config.group_add),
        "devices": [DeviceSpec(path_on_host=d.path_on_host,
                               path_in_container=d.path_in_container,
                               permissions=d.permissions) for d in config.devices],
        "mac_address": config.mac_address.lower().replace("-", ":") or None,
    }
    return {k: v for k, v in options.items() if v not in ([], None)}


def _log_limits(config: ContainerConfig) -> tuple[int, int]:
    from engine.containers.logopts import capped, log_limits

    return log_limits(capped(config.log_options))
