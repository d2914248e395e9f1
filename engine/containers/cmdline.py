"""The ``skiff`` command line that does what the window just did.

Beginners learn the CLI as they click: the app shows these next to every
action (a "show command" toggle).
"""

from __future__ import annotations

import shlex

from engine.containers.config import ContainerConfig
from engine.containers.mountspec import format_mount
from engine.containers.portspec import format_publish
from engine.units import format_cpus, format_ram

__all__ = ["run_command", "verb_command"]


def run_command(config: ContainerConfig, name: str = "", *, detach: bool = True) -> str:
    """``skiff run ...`` that creates and starts a container with this config."""
    args = ["skiff", "run"]
    if detach:
        args.append("-d")
    if name:
        args += ["--name", name]
    if config.hostname:
        args += ["--hostname", config.hostname]
    for item in config.env:
        args += ["-e", item]
    for port in config.ports:
        args += ["-p", format_publish(port)]
    if config.publish_all:
        args.append("-P")
    for exposed in config.exposed_ports:
        args += ["--expose", exposed.removesuffix("/tcp")]
    for mount in config.mounts:
        args += format_mount(mount)
    if config.network not in ("default", "bridge", ""):
        args += ["--network", config.network]
    for alias in config.network_aliases:
        args += ["--network-alias", alias]
    if config.ipv4_address:
        args += ["--ip", config.ipv4_address]
    if config.ipv6_address:
        args += ["--ip6", config.ipv6_address]
    for link in config.links:
        args += ["--link", link]
    if config.working_dir:
        args += ["-w", config.working_dir]
    if config.user:
        args += ["-u", config.user]
    policy = config.restart_policy
    if policy.name != "no":
        count = f":{policy.maximum_retry_count}" if policy.maximum_retry_count else ""
        args += ["--restart", f"{policy.name}{count}"]
    res = config.resources
    if res.memory:
        args += ["-m", format_ram(res.memory)]
    if res.nano_cpus:
        args += ["--cpus", format_cpus(res.nano_cpus)]
    if res.pids_limit:
        args += ["--pids-limit", str(res.pids_limit)]
    for key, value in config.labels.items():
        args += ["--label", f"{key}={value}"]
    if config.stop_signal:
        args += ["--stop-signal", config.stop_signal]
    for option in config.security_opt:
        args += ["--security-opt", option]
    if config.auto_remove:
        args.append("--rm")
    if config.userns:
        args += ["--userns", config.userns]
    if config.entrypoint is not None:
        args += ["--entrypoint", " ".join(config.entrypoint)]
    args.append(config.image)
    if config.cmd is not None:
        args += config.cmd
    return shlex.join(args)


def verb_command(verb: str, name: str, *extra: str) -> str:
    """``skiff stop web``, ``skiff rm -f web``, ``skiff exec -it web sh``..."""
    return shlex.join(["skiff", verb, *extra, name])
