"""Loading a compose project: files → interpolated, validated, merged, normalised model.

Each file is read as YAML, interpolated with the environment over the
project's ``.env`` (engine/compose/interpolate.py), checked against the
Compose schema (engine/compose/schema.py), its ``extends`` and ``include``
resolved (engine/compose/reading.py), its services put in long form
(engine/compose/normalize.py) and merged over the files before it
(engine/compose/merge.py). The result, a :class:`Project`, is what
``compose config`` prints and what the planner turns into containers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.compose.files import (
    find_files,
    normalize_project_name,
    read_env_file,
    valid_project_name,
)
from engine.compose.merge import merge_files
from engine.compose.reading import read_model
from engine.errors import InvalidArgument

__all__ = ["LoadOptions", "Project", "load_project"]


@dataclass(frozen=True)
class LoadOptions:
    files: Sequence[Path] = ()  # -f, in order; none: found as Compose finds them
    project_name: str = ""  # -p
    project_directory: Path | None = None  # --project-directory
    env_files: Sequence[Path] = ()  # --env-file; none: the project directory's .env
    profiles: Sequence[str] = ()  # --profile
    workdir: Path = field(default_factory=Path.cwd)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True)
class Project:
    name: str
    directory: Path
    files: list[Path]
    services: dict[str, dict[str, Any]]  # the enabled ones, in long form
    networks: dict[str, dict[str, Any]]  # each with its real "name"
    volumes: dict[str, dict[str, Any]]
    environment: dict[str, str]  # what interpolation used
    disabled: dict[str, dict[str, Any]] = field(default_factory=dict)  # by profiles

    @classmethod
    def labelled(cls, name: str, environment: dict[str, str]) -> Project:
        """A project known by its name alone (``compose -p NAME`` without files): its
        containers, networks and volumes are those carrying its label."""
        return cls(valid_project_name(name), Path.cwd(), [], {}, {}, {}, environment)

    def to_dict(self) -> dict[str, Any]:
        """``docker compose config``'s model: keys sorted, top level in Compose's order."""
        model: dict[str, Any] = {"name": self.name,
                                 "services": _sorted(self.services)}
        if self.networks:
            model["networks"] = _sorted(self.networks)
        if self.volumes:
            model["volumes"] = _sorted(self.volumes)
        return model

    def order(self, names: Sequence[str] = ()) -> list[str]:
        """Services (``names`` and what they depend on, or all) dependencies first."""
        wanted = list(names) or sorted(self.services)
        result: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in result:
                return
            if name in visiting:
                raise InvalidArgument(f"dependency cycle detected: {name}")
            visiting.add(name)
            linked = {str(link).partition(":")[0]
                      for link in self.services[name].get("links") or []}
            for dep in sorted({*(self.services[name].get("depends_on") or {}), *linked}):
                if dep in self.services:
                    visit(dep)
            visiting.discard(name)
            result.append(name)

        for name in wanted:
            if name not in self.services:
                raise InvalidArgument(f"no such service: {name}")
            visit(name)
        return result


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def load_project(options: LoadOptions) -> Project:
    files = [options.workdir / f for f in options.files] or find_files(options.workdir)
    directory = (options.project_directory or files[0].parent).absolute()
    dotenv: dict[str, str] = {}
    env_files = [options.workdir / f for f in options.env_files] or \
        [p for p in [directory / ".env"] if p.is_file()]
    for path in env_files:
        dotenv.update(read_env_file(path, options.environ))
    env = {**dotenv, **options.environ}
    model: dict[str, Any] = {}
    for path in files:
        model = merge_files(model, read_model(path, env, options.workdir, directory))
    name = options.project_name or env.get("COMPOSE_PROJECT_NAME") or \
        str(model.get("name") or "") or normalize_project_name(directory.name)
    valid_project_name(name)
    profiles = set(options.profiles) or {p for p in env.get("COMPOSE_PROFILES", "").split(",")
                                         if p}
    services: dict[str, dict[str, Any]] = {}
    disabled: dict[str, dict[str, Any]] = {}
    for service_name, service in (model.get("services") or {}).items():
        active = not service.get("profiles") or profiles & set(service["profiles"])
        (services if active else disabled)[service_name] = service
    networks = _named(model.get("networks") or {}, name)
    for service in services.values():
        if not service.get("networks") and not service.get("network_mode"):
            service["networks"] = {"default": None}
        if "default" in (service.get("networks") or {}):  # declared or not, as Compose has it
            networks.setdefault("default", {"name": f"{name}_default"})
    volumes = _named(model.get("volumes") or {}, name)
    _check(services, disabled, networks, volumes)
    return Project(name, directory, files, services, networks, volumes, env, disabled)


def _named(declared: dict[str, Any], project: str) -> dict[str, dict[str, Any]]:
    result = {}
    for key, value in declared.items():
        entry = dict(value or {})
        if entry.get("external"):
            entry.setdefault("name", key)
        entry.setdefault("name", f"{project}_{key}")
        result[key] = entry
    return result


def _check(services: dict[str, Any], disabled: dict[str, Any], networks: dict[str, Any],
           volumes: dict[str, Any]) -> None:
    for name, service in services.items():
        if not service.get("image") and not service.get("build"):
            raise InvalidArgument(f'service "{name}" has neither an image nor a build context '
                                  "specified: invalid compose project")
        for dep, spec in (service.get("depends_on") or {}).items():
            if dep not in services and spec.get("required", True):
                reason = "disabled by its profiles" if dep in disabled else "undefined"
                raise InvalidArgument(f'service "{name}" depends on {reason} service "{dep}": '
                                      "invalid compose project")
        for network in service.get("networks") or {}:
            if network not in networks:
                raise InvalidArgument(f'service "{name}" refers to undefined network '
                                      f"{network}: invalid compose project")
        for volume in service.get("volumes") or []:
            source = volume.get("source")
            if volume.get("type") == "volume" and source and source not in volumes:
                raise InvalidArgument(f'service "{name}" refers to undefined volume {source}: '
                                      "invalid compose project")
