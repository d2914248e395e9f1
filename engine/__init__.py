"""Skiff's container engine: an asyncio library with no Qt and no privileges.

This module is the engine's public API, and the only one the app, the CLI and
the Docker API server import::

    from engine import ContainerConfig, Engine

    async with Engine() as engine:
        container = await engine.containers.create(ContainerConfig(image="busybox"))

``Engine`` is a facade of per-resource services (``engine.containers``,
``.images``, ``.registry``, ``.networks``, ``.volumes``, ``.events``, ``.stats``,
``.system``); the other names are the types those services take and return, the
errors they raise, and the rules a client applies before it calls.

The names are listed once, as the TYPE_CHECKING imports below: mypy checks
clients against them, and at run time each is imported from the module its line
names on first use (PEP 562; ``__all__`` is derived from them too): the
per-container monitor imports parts of ``engine`` right after exec, and
``skiff ps`` must not pay for what it never touches. A new public name is one
more import there.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.build.builder import BuildOptions, BuildResult
    from engine.build.context import BuildContext, open_context
    from engine.build.events import BuildEvent, render
    from engine.build.remote import is_remote as is_remote_context
    from engine.build.runstep import BuildStepFailed
    from engine.changefeed import ChangeFeed
    from engine.compose.labels import NUMBER as COMPOSE_NUMBER
    from engine.compose.labels import PROJECT as COMPOSE_PROJECT
    from engine.compose.labels import SERVICE as COMPOSE_SERVICE
    from engine.compose.loader import LoadOptions, Project, load_project
    from engine.compose.planner import container_config
    from engine.compose.render import render_yaml
    from engine.compose.runner import Runner, UpOptions
    from engine.containers.attachsession import AttachSession
    from engine.containers.checks import check_config, check_resources, compile_checks
    from engine.containers.cmdline import run_command, verb_command
    from engine.containers.config import (
        RESTART_POLICIES,
        ContainerConfig,
        DeviceMapping,
        MountSpec,
        PortBinding,
        Resources,
        RestartPolicy,
        Ulimit,
    )
    from engine.containers.details import (
        ContainerDetails,
        EndpointSettings,
        HostPort,
        MountPoint,
        NetworkSettings,
        UsernsMapping,
    )
    from engine.containers.execsession import ExecSession
    from engine.containers.explain import exit_reason, format_bytes
    from engine.containers.files import FileEntry, NamespaceInfo
    from engine.containers.health import Healthcheck
    from engine.containers.hostopts import (
        normalize_capabilities,
        parse_device,
        parse_extra_host,
        parse_sysctl,
        parse_ulimit,
    )
    from engine.containers.imageconfig import EffectiveConfig, merge_command, merge_config
    from engine.containers.logopts import parse_log_options
    from engine.containers.model import Change, Container, Event, LogLine, ProcessInfo, Stats
    from engine.containers.mountspec import (
        format_mount,
        is_anonymous,
        parse_mount,
        parse_tmpfs,
        parse_volume,
        volume_mount,
    )
    from engine.containers.portspec import (
        exposed_ports,
        format_publish,
        parse_expose,
        parse_publish,
        port_binding,
    )
    from engine.containers.pstable import ProcessTable
    from engine.containers.securityopt import normalize_security_opts
    from engine.containers.state import ContainerState, Status
    from engine.containers.statustext import status_text
    from engine.db import is_disk_full
    from engine.diskusage import ContainerUsage, DiskUsage, ImageUsage, VolumeUsage
    from engine.engine import Engine
    from engine.errors import (
        AuthenticationError,
        Cancelled,
        Conflict,
        ContainerNotFound,
        ContainerStartError,
        DamagedState,
        DigestMismatch,
        DiskFull,
        HelperError,
        HelperLost,
        HelperUnavailable,
        ImageNotFound,
        InUse,
        InvalidArgument,
        InvalidState,
        KernelFeatureMissing,
        LayerError,
        NameInUse,
        NetworkNotFound,
        NotFound,
        ProtocolError,
        RegistryError,
        SkiffError,
        VolumeNotFound,
    )
    from engine.helperspawn import start_for_pull
    from engine.hostfacts import host_memory, os_name
    from engine.images.history import HistoryEntry
    from engine.images.model import Image, Layer
    from engine.images.reference import (
        DOCKER_HUB,
        Reference,
        familiar,
        registry_host,
        split_familiar,
    )
    from engine.inotify import IN_MODIFY, IN_MOVE_SELF, Inotify
    from engine.names import (
        check_container_name,
        check_network_name,
        check_volume_name,
        image_name,
        next_free,
    )
    from engine.networkmodel import Network, NetworkEndpoint
    from engine.networksubnets import IpamEntry, NetworkSubnets, network_subnets, pair_flags
    from engine.paths import engine_root, user_config_dir
    from engine.prune import Pruned, PruneFilter
    from engine.reader import Reader
    from engine.registry.model import PullProgress, PushProgress, SearchResult
    from engine.registry.progresstext import (
        PULL_WORDS,
        PUSH_WORDS,
        WITH_BAR,
        layer_id,
        progress_bar,
    )
    from engine.services.containers import AUTO_REMOVE_GRACE, ContainerService
    from engine.services.events import EventService
    from engine.services.images import ImageService
    from engine.services.networks import NetworkService
    from engine.services.registry import RegistryService
    from engine.services.stats import StatsService
    from engine.services.system import SystemService
    from engine.services.volumes import VolumeService
    from engine.signals import parse_signal, signal_name
    from engine.timestamps import format_rfc3339, parse_duration, parse_timestamp, rfc3339_ns
    from engine.units import (
        bytes_size,
        format_cpus,
        format_ram,
        human_duration,
        human_size,
        parse_cpus,
        parse_ram,
    )
    from engine.volumes import Volume
    from engine.wire.logformat import parse_time

# The table above is the public API, once: mypy reads it as the imports it is, and at
# run time each name is imported from the module it names on first use. Keep it one
# import statement per module, and nothing else in the block (tests/engine/test_api.py).
_homes: dict[str, str] | None = None


def _table() -> dict[str, str]:
    """Each public name's module ("module:name" where it is known there by another name),
    read from the TYPE_CHECKING block above (once: ~0.15 ms)."""
    global _homes
    if _homes is None:
        with open(__file__, encoding="utf-8") as source:
            _homes = _read_table(source.read())
    return _homes


def _read_table(source: str) -> dict[str, str]:
    """The TYPE_CHECKING block of ``source`` as a table: ``from M import A, B as C``
    lines, parenthesised ones too, up to the first blank line."""
    start = source.index("\nif TYPE_CHECKING:\n") + len("\nif TYPE_CHECKING:\n")
    block = source[start:source.index("\n\n", start)]
    words = block.replace(",", " ").replace("(", " ").replace(")", " ")
    table: dict[str, str] = {}
    # One statement at a time, its names in one call: a word at a time, this was ~0.3 ms
    # of every command run with no CLI server up.
    for statement in words.split(" from ")[1:]:
        module, _, *names = statement.split()  # MODULE import NAME... (NAME as ALIAS)
        while "as" in names:  # known there by another name
            at = names.index("as")
            table[names[at + 1]] = f"{module}:{names[at - 1]}"
            del names[at - 1:at + 2]
        table.update(dict.fromkeys(names, module))
    return table


def __getattr__(name: str) -> object:
    if name == "__all__":  # constants first, then names in order
        value: object = sorted(_table(), key=lambda n: (not n.isupper(), n))
        globals()[name] = value
        return value
    home = _table().get(name)
    if home is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    module, _, there = home.partition(":")
    value = getattr(importlib.import_module(module), there or name)
    globals()[name] = value  # once: the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_table()})
