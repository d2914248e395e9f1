"""What the engine refuses in a container's settings, before the helper sees them.

The helper checks every request again (engine/wire/protocol.py: the trust
boundary), but its refusals name schema fields. These checks take the same
limits and say each mistake in one sentence, in docker's words where docker
has them ("Minimum memory limit allowed is 6MB"). The CLI checks its flags
with them before opening the engine; ``create`` and ``update`` check again, so
the window and the REST server get the same sentences.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Sequence

from engine.containers.config import ContainerConfig, PortBinding, Resources
from engine.errors import InvalidArgument, NetworkNotFound
from engine.wire.protocol import VERBS
from engine.wire.schema import HOSTNAME, NETWORK_ALIAS, Field, compile_patterns

__all__ = ["MIN_MEMORY", "MIN_NANO_CPUS", "PUBLISHED_PROTOCOLS", "check_config",
           "check_network_alias", "check_ports", "check_resources", "check_user",
           "compile_checks"]

#: docker's minimum (linuxMinMemory): below it a container cannot even start its init.
MIN_MEMORY = 6 * 1024 * 1024
MIN_NANO_CPUS = 10_000_000  # 0.01 CPU, docker's lowest --cpus


def _port_field(field: str) -> Field:
    """The helper's own rule for a field of a published port."""
    items = VERBS["container_create"]["spec"].items
    assert items is not None and items["ports"].items is not None
    return items["ports"].items[field]


#: What the helper publishes (docker also has sctp).
PUBLISHED_PROTOCOLS = _port_field("protocol").choices


def check_ports(ports: Sequence[PortBinding]) -> None:
    """Published ports the helper can set up: docker's syntax allows more (sctp)."""
    host_ip = _port_field("host_ip").pattern
    assert host_ip is not None
    for binding in ports:
        if binding.protocol not in PUBLISHED_PROTOCOLS:
            raise InvalidArgument(f"cannot publish {binding.container_port}/{binding.protocol}: "
                                  f"Skiff publishes {' and '.join(PUBLISHED_PROTOCOLS)} ports")
        if not re.match(host_ip, binding.host_ip):
            raise InvalidArgument(f"cannot publish on {binding.host_ip}: it is no IP "
                                  "address")
        if ":" in binding.host_ip and binding.host_ip != "::" and (
                ipaddress.IPv6Address(binding.host_ip).is_link_local):
            raise InvalidArgument(f"cannot publish on {binding.host_ip}: the kernel does not "
                                  "forward its connections to a container")
        if ":" in binding.host_ip and binding.host_ip != "::" and binding.protocol != "tcp" \
                and ipaddress.IPv6Address(binding.host_ip).is_loopback:
            raise InvalidArgument(f"cannot publish {binding.protocol} on [::1]: Skiff relays "
                                  "TCP only there (the kernel does not forward ::1)")


def _spec_pattern(field: str) -> str:
    """The helper's own pattern for a field of container_create's spec."""
    items = VERBS["container_create"]["spec"].items
    assert items is not None
    pattern = items[field].pattern
    assert pattern is not None
    return pattern


def check_resources(resources: Resources) -> None:
    """Memory, CPUs and pids limits as docker bounds them; None means unlimited."""
    if resources.memory is not None and 0 < resources.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if resources.memory is not None and resources.memory < 0:
        raise InvalidArgument("Invalid memory limit: a limit is 6MB or more (0: no limit)")
    cpus = os.cpu_count() or 1
    if resources.nano_cpus and not MIN_NANO_CPUS <= resources.nano_cpus <= cpus * 10**9:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {cpus}.00, as there are only "
                              f"{cpus} CPUs available")
    if resources.pids_limit is not None and resources.pids_limit < 0:
        raise InvalidArgument("Invalid pids limit: use a number above 0 (0 or -1: no limit)")


def check_user(user: str, where: str = "user") -> None:
    if user and not re.match(_spec_pattern("user"), user):
        raise InvalidArgument(f'invalid {where} "{user}": use a user name or UID, optionally '
                              "followed by :group or :GID")


def _check_hostname(text: str, what: str) -> None:
    if not re.match(HOSTNAME, text):
        raise InvalidArgument(f'invalid {what} "{text}": use letters, digits, "-" and ".", '
                              "starting with a letter or digit, at most 63 characters")


def check_network_alias(alias: str) -> None:
    if not re.match(NETWORK_ALIAS, alias):
        raise InvalidArgument(f'invalid network alias "{alias}": use letters, digits, "_", "-" '
                              'and ".", starting with a letter or digit, at most 253 characters')


def check_config(config: ContainerConfig) -> None:
    """Everything the user chose that the helper would refuse; InvalidArgument."""
    check_resources(config.resources)
    check_ports(config.ports)
    check_user(config.user)
    if config.hostname:
        _check_hostname(config.hostname, "hostname")
    if min(config.console_size) < 0:
        raise InvalidArgument("the console size cannot be negative")
    for alias in config.network_aliases:
        check_network_alias(alias)
    network = config.network or "default"
    if not re.match(_spec_pattern("network_mode"), network):
        raise NetworkNotFound(f"network {network} not found")
    if config.links and network in ("host", "none"):
        raise InvalidArgument(f"conflicting options: {network} type networking can't be "
                              "used with links. This would result in undefined behavior")
    from engine.containers.hostopts import check_host_options

    check_host_options(config)


def compile_checks() -> None:
    """Compile the protocol's patterns these checks hold flags to (re compiles each on
    first use): for a process that forks one checker a command (app/cli/forkserver.py),
    once there rather than in every child (~0.3 ms of a served ``run``)."""
    for schema in VERBS.values():
        compile_patterns(schema)
