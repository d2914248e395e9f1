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

Every name is imported on first use (PEP 562): the per-container monitor
imports parts of ``engine`` right after exec, and ``skiff ps`` must not pay for
what it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.build.builder import BuildOptions, BuildResult
    from engine.build.context import BuildContext, open_context
    from engine.build.events import BuildEvent, render
    from engine.build.runstep import BuildStepFailed
    from engine.compose.loader import LoadOptions, Project, load_project
    from engine.compose.planner import NUMBER as COMPOSE_NUMBER
    from engine.compose.planner import PROJECT as COMPOSE_PROJECT
    from engine.compose.planner import SERVICE as COMPOSE_SERVICE
    from engine.compose.planner import container_config
    from engine.compose.render import render_yaml
    from engine.compose.runner import Runner, UpOptions
    from engine.containers.attachsession import AttachSession
    from engine.containers.checks import check_config, check_resources
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
    from engine.containers.imageconfig import EffectiveConfig, merge_config
    from engine.containers.logopts import parse_log_options
    from engine.containers.model import Change, Container, Event, LogLine, ProcessInfo, Stats
    from engine.containers.mountspec import (
        format_mount,
        is_anonymous,
        parse_mount,
        parse_volume,
        volume_mount,
    )
    from engine.containers.portspec import format_publish, parse_publish, port_binding
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
    from engine.inotify import IN_MODIFY, Inotify
    from engine.names import (
        check_container_name,
        check_network_name,
        check_volume_name,
        image_name,
        next_free,
    )
    from engine.paths import engine_root, user_config_dir
    from engine.prune import Pruned, PruneFilter
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

#: Where each public name lives ("module:name" where it is known there by another name).
_HOMES: dict[str, str] = {
    "check_volume_name": "engine.names",
    "check_network_name": "engine.names",
    "parse_signal": "engine.signals",
    "format_publish": "engine.containers.portspec",
    "format_mount": "engine.containers.mountspec",
    "is_anonymous": "engine.containers.mountspec",
    "EffectiveConfig": "engine.containers.imageconfig",
    "status_text": "engine.containers.statustext",
    "progress_bar": "engine.registry.progresstext",
    "layer_id": "engine.registry.progresstext",
    "WITH_BAR": "engine.registry.progresstext",
    "PUSH_WORDS": "engine.registry.progresstext",
    "PULL_WORDS": "engine.registry.progresstext",
    "COMPOSE_NUMBER": "engine.compose.planner:NUMBER",
    "COMPOSE_PROJECT": "engine.compose.planner:PROJECT",
    "COMPOSE_SERVICE": "engine.compose.planner:SERVICE",
    "render_yaml": "engine.compose.render",
    "registry_host": "engine.images.reference",
    "load_project": "engine.compose.loader",
    "container_config": "engine.compose.planner",
    "UpOptions": "engine.compose.runner",
    "Runner": "engine.compose.runner",
    "Project": "engine.compose.loader",
    "LoadOptions": "engine.compose.loader",
    "signal_name": "engine.signals",
    "parse_cpus": "engine.units",
    "format_cpus": "engine.units",
    "merge_config": "engine.containers.imageconfig",
    "BuildEvent": "engine.build.events",
    "BuildContext": "engine.build.context",
    "BuildResult": "engine.build.builder",
    "volume_mount": "engine.containers.mountspec",
    "split_familiar": "engine.images.reference",
    "render": "engine.build.events",
    "port_binding": "engine.containers.portspec",
    "parse_publish": "engine.containers.portspec",
    "parse_mount": "engine.containers.mountspec",
    "parse_volume": "engine.containers.mountspec",
    "parse_ram": "engine.units",
    "parse_duration": "engine.timestamps",
    "open_context": "engine.build.context",
    "next_free": "engine.names",
    "image_name": "engine.names",
    "human_size": "engine.units",
    "human_duration": "engine.units",
    "format_ram": "engine.units",
    "familiar": "engine.images.reference",
    "check_container_name": "engine.names",
    "bytes_size": "engine.units",
    "Healthcheck": "engine.containers.health",
    "DOCKER_HUB": "engine.images.reference",
    "BuildStepFailed": "engine.build.runstep",
    "BuildOptions": "engine.build.builder",
    "format_rfc3339": "engine.timestamps",
    "rfc3339_ns": "engine.timestamps",
    "parse_time": "engine.wire.logformat",
    "Reference": "engine.images.reference",
    "Engine": "engine.engine",
    "AUTO_REMOVE_GRACE": "engine.services.containers",
    "host_memory": "engine.hostfacts",
    "os_name": "engine.hostfacts",
    "ContainerService": "engine.services.containers",
    "ImageService": "engine.services.images",
    "RegistryService": "engine.services.registry",
    "NetworkService": "engine.services.networks",
    "VolumeService": "engine.services.volumes",
    "EventService": "engine.services.events",
    "StatsService": "engine.services.stats",
    "SystemService": "engine.services.system",
    "RESTART_POLICIES": "engine.containers.config",
    "ContainerConfig": "engine.containers.config",
    "MountSpec": "engine.containers.config",
    "PortBinding": "engine.containers.config",
    "Ulimit": "engine.containers.config",
    "DeviceMapping": "engine.containers.config",
    "normalize_capabilities": "engine.containers.hostopts",
    "parse_device": "engine.containers.hostopts",
    "parse_extra_host": "engine.containers.hostopts",
    "parse_sysctl": "engine.containers.hostopts",
    "parse_ulimit": "engine.containers.hostopts",
    "Resources": "engine.containers.config",
    "RestartPolicy": "engine.containers.config",
    "Change": "engine.containers.model",
    "Container": "engine.containers.model",
    "Event": "engine.containers.model",
    "LogLine": "engine.containers.model",
    "ProcessInfo": "engine.containers.model",
    "ProcessTable": "engine.containers.pstable",
    "Stats": "engine.containers.model",
    "ContainerState": "engine.containers.state",
    "Status": "engine.containers.state",
    "FileEntry": "engine.containers.files",
    "NamespaceInfo": "engine.containers.files",
    "AttachSession": "engine.containers.attachsession",
    "ExecSession": "engine.containers.execsession",
    "Image": "engine.images.model",
    "Layer": "engine.images.model",
    "HistoryEntry": "engine.images.history",
    "PullProgress": "engine.registry.model",
    "PushProgress": "engine.registry.model",
    "SearchResult": "engine.registry.model",
    "Volume": "engine.volumes",
    "ContainerUsage": "engine.diskusage",
    "DiskUsage": "engine.diskusage",
    "ImageUsage": "engine.diskusage",
    "VolumeUsage": "engine.diskusage",
    "Pruned": "engine.prune",
    "PruneFilter": "engine.prune",
    "AuthenticationError": "engine.errors",
    "Cancelled": "engine.errors",
    "Conflict": "engine.errors",
    "ContainerNotFound": "engine.errors",
    "ContainerStartError": "engine.errors",
    "DamagedState": "engine.errors",
    "DigestMismatch": "engine.errors",
    "DiskFull": "engine.errors",
    "HelperError": "engine.errors",
    "HelperLost": "engine.errors",
    "HelperUnavailable": "engine.errors",
    "ImageNotFound": "engine.errors",
    "InUse": "engine.errors",
    "InvalidArgument": "engine.errors",
    "InvalidState": "engine.errors",
    "KernelFeatureMissing": "engine.errors",
    "LayerError": "engine.errors",
    "NameInUse": "engine.errors",
    "NetworkNotFound": "engine.errors",
    "NotFound": "engine.errors",
    "ProtocolError": "engine.errors",
    "RegistryError": "engine.errors",
    "SkiffError": "engine.errors",
    "VolumeNotFound": "engine.errors",
    "check_config": "engine.containers.checks",
    "check_resources": "engine.containers.checks",
    "normalize_security_opts": "engine.containers.securityopt",
    "parse_log_options": "engine.containers.logopts",
    "run_command": "engine.containers.cmdline",
    "verb_command": "engine.containers.cmdline",
    "exit_reason": "engine.containers.explain",
    "format_bytes": "engine.containers.explain",
    "is_disk_full": "engine.db",
    "engine_root": "engine.paths",
    "user_config_dir": "engine.paths",
    "IN_MODIFY": "engine.inotify",
    "parse_timestamp": "engine.timestamps",
    "Inotify": "engine.inotify",
}

__all__ = [
    "AUTO_REMOVE_GRACE",
    "COMPOSE_NUMBER",
    "COMPOSE_PROJECT",
    "COMPOSE_SERVICE",
    "DOCKER_HUB",
    "IN_MODIFY",
    "PULL_WORDS",
    "PUSH_WORDS",
    "RESTART_POLICIES",
    "WITH_BAR",
    "AttachSession",
    "AuthenticationError",
    "BuildContext",
    "BuildEvent",
    "BuildOptions",
    "BuildResult",
    "BuildStepFailed",
    "Cancelled",
    "Change",
    "Conflict",
    "Container",
    "ContainerConfig",
    "ContainerNotFound",
    "ContainerService",
    "ContainerStartError",
    "ContainerState",
    "ContainerUsage",
    "DamagedState",
    "DeviceMapping",
    "DigestMismatch",
    "DiskFull",
    "DiskUsage",
    "EffectiveConfig",
    "Engine",
    "Event",
    "EventService",
    "ExecSession",
    "FileEntry",
    "Healthcheck",
    "HelperError",
    "HelperLost",
    "HelperUnavailable",
    "HistoryEntry",
    "Image",
    "ImageNotFound",
    "ImageService",
    "ImageUsage",
    "InUse",
    "Inotify",
    "InvalidArgument",
    "InvalidState",
    "KernelFeatureMissing",
    "Layer",
    "LayerError",
    "LoadOptions",
    "LogLine",
    "MountSpec",
    "NameInUse",
    "NamespaceInfo",
    "NetworkNotFound",
    "NetworkService",
    "NotFound",
    "PortBinding",
    "ProcessInfo",
    "ProcessTable",
    "Project",
    "ProtocolError",
    "PruneFilter",
    "Pruned",
    "PullProgress",
    "PushProgress",
    "Reference",
    "RegistryError",
    "RegistryService",
    "Resources",
    "RestartPolicy",
    "Runner",
    "SearchResult",
    "SkiffError",
    "Stats",
    "StatsService",
    "Status",
    "SystemService",
    "Ulimit",
    "UpOptions",
    "Volume",
    "VolumeNotFound",
    "VolumeService",
    "VolumeUsage",
    "bytes_size",
    "check_config",
    "check_container_name",
    "check_network_name",
    "check_resources",
    "check_volume_name",
    "container_config",
    "engine_root",
    "exit_reason",
    "familiar",
    "format_bytes",
    "format_cpus",
    "format_mount",
    "format_publish",
    "format_ram",
    "format_rfc3339",
    "host_memory",
    "human_duration",
    "human_size",
    "image_name",
    "is_anonymous",
    "is_disk_full",
    "layer_id",
    "load_project",
    "merge_config",
    "next_free",
    "normalize_capabilities",
    "normalize_security_opts",
    "open_context",
    "os_name",
    "parse_cpus",
    "parse_device",
    "parse_duration",
    "parse_extra_host",
    "parse_log_options",
    "parse_mount",
    "parse_publish",
    "parse_ram",
    "parse_signal",
    "parse_sysctl",
    "parse_time",
    "parse_timestamp",
    "parse_ulimit",
    "parse_volume",
    "port_binding",
    "progress_bar",
    "registry_host",
    "render",
    "render_yaml",
    "rfc3339_ns",
    "run_command",
    "signal_name",
    "split_familiar",
    "status_text",
    "user_config_dir",
    "verb_command",
    "volume_mount",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    module, _, there = home.partition(":")
    value = getattr(importlib.import_module(module), there or name)
    globals()[name] = value  # once: the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
