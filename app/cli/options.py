"""Flag values turned into engine objects, with docker's syntax and docker's errors.

Pure functions over the engine's rules: memory sizes ("512m"), ``--cpus``, ``-p`` forms,
``-v``/``--mount``, ``--env-file``, ``-e``/``-l`` lists, ``--restart`` and the
times that ``logs --since`` and ``events --until`` take. A bad value raises
:class:`UsageError`, which the CLI prints as one line with a hint, exiting 125
like docker does for flag errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import engine
from app.cli.command import UsageError
from engine import (
    InvalidArgument,
    MountSpec,
    PortBinding,
    RestartPolicy,
    normalize_security_opts,
    parse_ram,
    parse_timestamp,
    signal_name,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    A = TypeVar("A")
    T = TypeVar("T")

__all__ = [
    "UsageError",
    "exposed_ports",
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
    "parse_tmpfs",
    "parse_userns",
    "parse_volume",
]


def parse_memory(text: str, flag: str = "-m, --memory") -> int:
    """docker's RAMInBytes (the engine's rule): "512m", "1.5g", "1024"."""
    try:
        return parse_ram(text)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{text}" for "{flag}" flag: {exc}') from None


def parse_cpus(text: str) -> int:
    """``--cpus 1.5`` → nano CPUs (1.5e9), by the engine's rule."""
    try:
        return engine.parse_cpus(text)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{text}" for "--cpus" flag: {exc}') from None


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


def parse_publish(text: str) -> list[PortBinding]:
    """``-p``: the engine's rule (engine.containers.portspec)."""
    return _usage(engine.parse_publish, text)


def parse_volume(text: str) -> MountSpec:
    """``-v``: the engine's rule (engine.containers.mountspec); ``-v /ctr`` is anonymous."""
    return _usage(engine.parse_volume, text)


def parse_mount(text: str) -> MountSpec:
    """``--mount``: the engine's rule (engine.containers.mountspec)."""
    return _usage(engine.parse_mount, text)


def exposed_ports(texts: Sequence[str]) -> list[str]:
    """``--expose PORT[-PORT][/PROTO]...``: the engine's rule (engine.containers.portspec)."""
    return _usage(engine.exposed_ports, texts)


def parse_tmpfs(text: str) -> MountSpec:
    """``--tmpfs PATH[:OPTIONS]``: the engine's rule (engine.containers.mountspec)."""
    return _usage(engine.parse_tmpfs, text)


def _usage(parse: Callable[[A], T], text: A) -> T:
    """The engine's InvalidArgument as a usage error (exit 125, as docker's flag errors)."""
    try:
        return parse(text)
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None


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
        with open(path, encoding="utf-8") as f:
            text = f.read()
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
    """"TERM", "SIGTERM", "sigterm" or "15" → "SIGTERM", by the engine's rule."""
    try:
        return signal_name(text)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{text}" for "{flag}" flag: {exc}') from None


def parse_userns(text: str) -> str:
    """``--userns``: host (root's containers only) or remap (alias auto)."""
    value = text.strip().lower()
    if value not in ("", "host", "remap", "auto"):
        raise UsageError(f'invalid value for "--userns": {text!r} (use host, or remap to run '
                         "in a user namespace of your subordinate ids)")
    return "remap" if value == "auto" else value
