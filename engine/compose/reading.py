"""One compose file read into the model: YAML, interpolation, schema, ``extends``, ``include``.

``extends`` takes a service (from this file or another, relative to this one)
as the base the service's own fields are merged over, recursively.
``include`` loads other compose files as their own parts of the project, each
relative to its own directory; what they define may not be defined again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.compose.interpolate import interpolate
from engine.compose.merge import merge_files
from engine.compose.normalize import normalize_service
from engine.compose.schema import ComposeFileError, load_yaml, validate
from engine.errors import InvalidArgument

__all__ = ["read_model"]

_MAX_DEPTH = 16


def _raw(path: Path, env: Mapping[str, str], workdir: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ComposeFileError(f"open {path}: {exc.strerror or exc}") from None
    source = os.path.relpath(path, workdir) if path.is_absolute() else str(path)
    data, lines = load_yaml(text, source)
    data = interpolate(data, env)
    validate(data, source, lines)
    return data


def read_model(path: Path, env: Mapping[str, str], workdir: Path, directory: Path,
               depth: int = 0) -> dict[str, Any]:
    """The file's model with services normalised; ``directory`` resolves relative paths."""
    if depth > _MAX_DEPTH:
        raise InvalidArgument(f"{path}: include nested too deep")
    data = _raw(path, env, workdir)
    included: dict[str, Any] = {}
    for entry in data.pop("include", None) or []:
        spec = {"path": entry} if isinstance(entry, str) else dict(entry)
        paths = spec["path"] if isinstance(spec["path"], list) else [spec["path"]]
        for item in paths:
            target = (path.parent / str(item)).absolute()
            base = Path(spec.get("project_directory") or target.parent)
            part = read_model(target, env, workdir, (path.parent / base).absolute(), depth + 1)
            for section in ("services", "networks", "volumes"):
                for name in part.get(section) or {}:
                    if name in (data.get(section) or {}) or name in (included.get(section)
                                                                     or {}):
                        raise InvalidArgument(f"{section}.{name} conflicts with imported "
                                              f"resource from {target}")
            included = merge_files(included, part)
    services = data.get("services") or {}
    data["services"] = {name: _service(name, services, path, env, workdir, directory, set())
                        for name in services}
    return merge_files(included, data)


def _service(name: str, services: dict[str, Any], path: Path, env: Mapping[str, str],
             workdir: Path, directory: Path, seen: set[tuple[str, str]]) -> dict[str, Any]:
    raw = dict(services[name] or {})
    extends = raw.pop("extends", None)
    own = normalize_service(name, raw, directory, env)
    if extends is None:
        return own
    spec = {"service": extends} if isinstance(extends, str) else dict(extends)
    key = (str(path), name)
    if key in seen:
        raise InvalidArgument(f"services.{name}: circular reference with extends")
    base_name = str(spec["service"])
    if spec.get("file"):
        other = (path.parent / str(spec["file"])).absolute()
        pool = _raw(other, env, workdir).get("services") or {}
        where = other
    else:
        pool, where = services, path
    if base_name not in pool:
        raise InvalidArgument(f'services.{name}.extends: cannot extend service "{base_name}" '
                              f"of {where}: no such service")
    base = _service(base_name, pool, where, env, workdir, directory, {*seen, key})
    merged = merge_files({"services": {name: base}}, {"services": {name: own}})
    return dict(merged["services"][name])
