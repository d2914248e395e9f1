"""Flag values turned into engine objects, with docker's syntax and docker's errors.

Pure functions over the engine's rules: memory sizes ("512m"), ``--cpus``, ``-p`` forms,
``-v``/``--mount``, ``--env-file``, ``-e``/``-l`` lists, ``--restart`` and the
times that ``logs --since`` and ``events --until`` take. A bad value raises
:class:`UsageError`, which the CLI prints as one line with a hint, exiting 125
like docker does for flag errors.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.containers.config import MountSpec, PortBinding, RestartPolicy
from engine.containers.securityopt import normalize_security_opts
from engine.errors import InvalidArgument
from engine.names import check_volume_name
from engine.timestamps import parse_timestamp
from engine.units import parse_ram

__all__ = [
    "UsageError",
    "parse_cpus",
    "parse_env",
    "parse_env_file",
    "parse_labels",
    "parse_memory",
    "parse_mount",
    "parse_publish",
    "parse_restart",
    "parse_security_opts",
    "parse_signal",
    "parse_time",
    "parse_userns",
    "parse_volume",
]


class UsageError(Exception):
    """A flag or argument the user got wrong; printed with "See 'skiff CMD --help'."."""

    def __init__(self, message: str, status: int = 125) -> None:
        super().__init__(message)
        self.status = status


def parse_memory(text: str, flag: str = "-m, --memory") -> int:
    """docker's RAMInBytes (the engine's rule): "512m", "1.5g", "1024"."""
    try:
        return parse_ram(text)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{text}" for "{flag}" flag: {exc}') from None


def parse_cpus(text: str) -> int:
    """``--cpus 1.5`` → nano CPUs (1.5e9)."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f'invalid argument "{text}" for "--cpus" flag: failed to parse '
                         f"{text} as a rational number") from None
    if value < 0 or value != value or value == float("inf"):
        raise UsageError(f'invalid argument "{text}" for "--cpus" flag: the number of CPUs '
                         "must be a positive number")
    return round(value * 1e9)


def parse_security_opts(values: Sequence[str]) -> list[str]:
    """``--security-opt`` values as Docker stores them: a seccomp profile is read here."""
    try:
        return normalize_security_opts(values)
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None


def parse_restart(text: str) -> RestartPolicy:
    try:
        return RestartPolicy.parse(text)
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None


def _port_range(text: str, what: str, original: str) -> list[int]:
    start, dash, end = text.partition("-")
    try:
        first = int(start)
        last = int(end) if dash else first
    except ValueError:
        raise UsageError(f"invalid {what}: {text!r} in {original!r}") from None
    if not (0 < first <= 65535 and 0 < last <= 65535) or last < first:
        raise UsageError(f"invalid {what}: {text!r} in {original!r} (ports are 1 to 65535)")
    return list(range(first, last + 1))


def parse_publish(text: str) -> list[PortBinding]:
    """``-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]``, with equal-length ranges."""
    original = text
    rest, slash, proto = text.rpartition("/")
    if not slash:
        rest, proto = text, "tcp"
    proto = proto.lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise UsageError(f"invalid proto: {proto!r} in {original!r} (use tcp or udp)")
    host_ip = ""
    if rest.startswith("["):  # [::1]:8080:80
        close = rest.find("]")
        if close < 0 or rest[close + 1:close + 2] != ":":
            raise UsageError(f"invalid IP address in {original!r}")
        host_ip, rest = rest[1:close], rest[close + 2:]
        parts = [host_ip, *rest.split(":")] if rest.count(":") == 1 else [host_ip, "", rest]
    else:
        parts = rest.split(":")
    if len(parts) == 1:
        host_part, container_part = "", parts[0]
    elif len(parts) == 2:
        host_part, container_part = parts
    elif len(parts) == 3:
        host_ip, host_part, container_part = parts
    else:
        raise UsageError(f"invalid publish format: {original!r} "
                         "(use [IP:][HOSTPORT:]CONTAINERPORT[/PROTO])")
    if host_ip and not re.match(r"^[0-9a-fA-F.:]+$", host_ip):
        raise UsageError(f"invalid IP address: {host_ip!r} in {original!r}")
    if not container_part:
        raise UsageError(f"no port specified: {original!r}")
    container_ports = _port_range(container_part, "containerPort", original)
    if not host_part:
        return [PortBinding(p, proto, host_ip, 0) for p in container_ports]
    host_ports = _port_range(host_part, "hostPort", original)
    if len(host_ports) != len(container_ports):
        raise UsageError(f"invalid ranges in {original!r}: the host and container port ranges "
                         "must have the same length")
    return [PortBinding(c, proto, host_ip, h)
            for h, c in zip(host_ports, container_ports, strict=True)]


def parse_volume(text: str) -> MountSpec:
    """``-v /host:/ctr[:ro|rw]``, ``-v NAME:/ctr[:ro]`` or ``-v /ctr`` (anonymous volume)."""
    parts = text.split(":")
    options: list[str] = []
    if len(parts) == 1:
        source, target = "", parts[0]
    elif len(parts) == 2:
        source, target = parts
    elif len(parts) == 3:
        source, target = parts[0], parts[1]
        options = parts[2].split(",")
    else:
        raise UsageError(f"invalid volume specification: {text!r} "
                         "(use SOURCE:TARGET[:ro])")
    read_only = False
    for option in options:
        if option == "ro":
            read_only = True
        elif option in ("rw", "z", "Z", ""):
            continue
        else:
            raise UsageError(f"invalid volume specification: {text!r}: unknown option "
                             f"{option!r} (use ro or rw)")
    if not target.startswith("/"):
        raise UsageError(f"invalid volume specification: {text!r}: the mount point "
                         f"{target!r} must be an absolute path")
    if not source:
        return MountSpec("volume", target, "", read_only)
    if source.startswith("/"):
        return MountSpec("bind", target, source, read_only)
    if source.startswith(".") or "/" in source:
        raise UsageError(f"invalid volume specification: {text!r}: a host path must be "
                         "absolute")
    try:
        check_volume_name(source)
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None
    return MountSpec("volume", target, source, read_only)


def _bool_value(key: str, value: str, original: str) -> bool:
    lowered = value.lower()
    if lowered in ("", "1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise UsageError(f"invalid value for {key}: {value!r} in {original!r}")


def parse_mount(text: str) -> MountSpec:
    """``--mount type=bind|volume|tmpfs,source=...,target=...[,readonly]``."""
    kind = "volume"
    source = target = ""
    read_only = False
    for field in text.split(","):
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if key == "type":
            kind = value
        elif key in ("source", "src"):
            source = value
        elif key in ("target", "destination", "dst"):
            target = value
        elif key in ("readonly", "ro"):
            read_only = _bool_value(key, value if eq else "", text)
        elif key in ("bind-propagation", "consistency", "volume-nocopy"):
            continue  # accepted for compatibility; Skiff has one behaviour for each
        else:
            raise UsageError(f"invalid field {key!r} in --mount {text!r}: use type, source, "
                             "target and readonly")
    if kind not in ("bind", "volume", "tmpfs"):
        raise UsageError(f"invalid mount type {kind!r} in {text!r}: use bind, volume or tmpfs")
    if not target:
        raise UsageError(f"invalid --mount {text!r}: target is required")
    if not target.startswith("/"):
        raise UsageError(f"invalid --mount {text!r}: the target must be an absolute path")
    if kind == "bind":
        if not source:
            raise UsageError(f"invalid --mount {text!r}: source is required for bind mounts")
        if not source.startswith("/"):
            raise UsageError(f"invalid --mount {text!r}: a bind source must be an absolute path")
    if kind == "tmpfs" and source:
        raise UsageError(f"invalid --mount {text!r}: tmpfs mounts take no source")
    return MountSpec(kind, target, source, read_only)


def parse_env(items: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``-e K=V`` as given; ``-e K`` takes K from our environment, or is dropped if unset."""
    result: list[str] = []
    for item in items:
        key, eq, _ = item.partition("=")
        if not key:
            raise UsageError(f"invalid environment variable: {item!r}")
        if eq:
            result.append(item)
        elif key in environ:
            result.append(f"{key}={environ[key]}")
    return result


def parse_env_file(path: str, environ: Mapping[str, str]) -> list[str]:
    """docker's env files: KEY=VALUE lines, # comments, blanks skipped, bare KEY from us."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"open {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the env file is not UTF-8 text") from None
    items: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not key:
            raise UsageError(f"{path}:{number}: no variable name before '='")
        if any(ch.isspace() for ch in key):
            raise UsageError(f"{path}:{number}: variable {key!r} contains whitespaces")
        if eq:
            items.append(f"{key}={value}")
        elif key in environ:
            items.append(f"{key}={environ[key]}")
    return items


def parse_labels(items: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise UsageError(f"invalid label {item!r}: the key is empty")
        labels[key] = value
    return labels


def parse_time(text: str, flag: str, now: float | None = None) -> int:
    """A ``--since``/``--until`` value → ns since the epoch (the engine's rule, docker's forms)."""
    try:
        return parse_timestamp(text, now)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{text}" for "{flag}" flag: {exc}') from None


def parse_signal(text: str, flag: str = "--signal") -> str:
    """"TERM", "SIGTERM", "sigterm" or "15" → "SIGTERM" (docker accepts all of these)."""
    value = text.strip()
    if value.isdigit():
        try:
            return signal.Signals(int(value)).name
        except ValueError:
            raise UsageError(f"invalid signal: {text}") from None
    name = value.upper()
    if not name.startswith("SIG"):
        name = f"SIG{name}"
    if name not in signal.Signals.__members__:
        raise UsageError(f'invalid argument "{text}" for "{flag}" flag: invalid signal: {text}')
    return name


def parse_userns(text: str) -> str:
    """``--userns``: host (root's containers only) or remap (alias auto)."""
    value = text.strip().lower()
    if value not in ("", "host", "remap", "auto"):
        raise UsageError(f'invalid value for "--userns": {text!r} (use host, or remap to run '
                         "in a user namespace of your subordinate ids)")
    return "remap" if value == "auto" else value
