"""One service's fields in their canonical (long) form, as ``docker compose config`` prints them.

Short syntaxes become long ones (ports, volumes, depends_on, networks), lists
of KEY=VALUE become mappings (environment, labels), env_file is read into the
environment, relative host paths become absolute from the project directory.
Errors name the field: ``services.web.ports[0]: invalid port "eighty"``.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import InvalidArgument

__all__ = ["normalize_service", "parse_port", "parse_volume"]

_PORT = re.compile(r"^(?:(?:(?P<ip>\[[0-9a-fA-F:]+\]|[0-9.]+):)?(?P<host>\d*(?:-\d+)?):)?"
                   r"(?P<target>\d+(?:-\d+)?)(?:/(?P<proto>tcp|udp|sctp))?$")


def _range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    start, end = int(first), int(last or first)
    return list(range(start, end + 1)) if start <= end else []


def parse_port(value: Any, where: str) -> list[dict[str, Any]]:
    """A ports entry (short or long) as long entries; ranges expand one per port."""
    if isinstance(value, dict):
        given: dict[str, Any] = {"mode": value.get("mode", "ingress"), **value}
        try:
            given["target"] = int(given["target"])
        except (KeyError, TypeError, ValueError):
            raise InvalidArgument(f"{where}: invalid port target {value.get('target')!r}"
                                  ) from None
        if given.get("published") is not None:
            given["published"] = str(given["published"])
        given.setdefault("protocol", "tcp")
        return [given]
    match = _PORT.match(str(value))
    if match is None:
        raise InvalidArgument(f"{where}: invalid port {str(value)!r}")
    targets = _range(match["target"])
    hosts = _range(match["host"]) if match["host"] else []
    if not targets or (hosts and len(hosts) not in (1, len(targets))) or \
            any(not 0 < p < 65536 for p in (*targets, *hosts)):
        raise InvalidArgument(f"{where}: invalid port {str(value)!r}")
    entries = []
    for n, target in enumerate(targets):
        entry: dict[str, Any] = {"mode": "ingress"}
        if match["ip"]:
            entry["host_ip"] = match["ip"].strip("[]")
        entry["target"] = target
        if hosts:
            entry["published"] = str(hosts[n] if len(hosts) > 1 else hosts[0])
        entry["protocol"] = match["proto"] or "tcp"
        entries.append(entry)
    return entries


def parse_volume(value: Any, where: str, project_dir: Path) -> dict[str, Any]:
    """A volumes entry (short or long) in the long form, with an absolute bind source."""
    if isinstance(value, dict):
        long = dict(value)
        if long.get("type") == "bind" and long.get("source"):
            long["source"] = _host_path(str(long["source"]), project_dir)
        return long
    text = str(value)
    parts = text.split(":")
    mode = ""
    if len(parts) >= 3 or (len(parts) == 2 and not parts[1].startswith("/")):
        mode = parts.pop()
    if len(parts) == 1:
        source, target = "", parts[0]
    elif len(parts) == 2:
        source, target = parts
    else:
        raise InvalidArgument(f"{where}: invalid volume specification {text!r}")
    if not target.startswith("/"):
        raise InvalidArgument(f"{where}: invalid volume specification {text!r}: the target "
                              "must be an absolute path")
    entry: dict[str, Any]
    if not source:
        entry = {"type": "volume", "target": target, "volume": {}}
    elif source.startswith((".", "/", "~")):
        entry = {"type": "bind", "source": _host_path(source, project_dir), "target": target,
                 "bind": {"create_host_path": True}}
    else:
        entry = {"type": "volume", "source": source, "target": target, "volume": {}}
    for option in filter(None, mode.split(",")):  # as compose-go files each option
        if option == "ro":
            entry["read_only"] = True
        elif option == "nocopy" and entry["type"] == "volume":
            entry["volume"]["nocopy"] = True
        elif option in ("z", "Z") and entry["type"] == "bind":
            entry["bind"] = {"selinux": option, **entry["bind"]}
        elif option in ("shared", "slave", "private", "rshared", "rslave", "rprivate") and \
                entry["type"] == "bind":
            entry["bind"] = {"propagation": option, **entry["bind"]}
        elif option not in ("rw", "z", "Z", "nocopy", "shared", "slave", "private",
                            "rshared", "rslave", "rprivate"):
            raise InvalidArgument(f"{where}: invalid volume mode {option!r} in {text!r}")
    return entry


def _host_path(path: str, project_dir: Path) -> str:
    expanded = os.path.expanduser(path)
    return os.path.normpath(project_dir / expanded)


def _mapping(value: Any, where: str) -> dict[str, str | None]:
    """KEY=VALUE lists or mappings as a mapping; a bare KEY is None (taken from the
    environment, when it has it)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): None if v is None else _scalar(v) for k, v in value.items()}
    result: dict[str, str | None] = {}
    for item in value:
        key, sep, val = str(item).partition("=")
        if not key:
            raise InvalidArgument(f"{where}: invalid entry {item!r}")
        result[key] = val if sep else None
    return result


def _scalar(value: Any) -> str:
    """A YAML scalar as text, as Go prints it (``true``, ``1`` for 1.0, ``1.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _command(value: Any) -> list[str] | None:
    """A command as a list; a string is split as Compose splits it (go-shellwords), which
    stops at the first unquoted ``;``, ``&``, ``|``, ``<`` or ``>``: ``sh -c`` runs the rest."""
    if value is None:
        return None
    if not isinstance(value, str):
        return [str(v) for v in value]
    quote, escaped = "", False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in ";&|<>":
            value = value[:index]
            break
    return shlex.split(value)


def normalize_service(name: str, raw: dict[str, Any], project_dir: Path,
                      environ: Mapping[str, str]) -> dict[str, Any]:
    where = f"services.{name}"
    service = dict(raw)
    for key in ("command", "entrypoint"):
        if key in service:
            service[key] = _command(service[key])
    environment: dict[str, str | None] = {}
    env_files = service.pop("env_file", None) or []
    from engine.compose.files import read_env_file

    for item in [env_files] if isinstance(env_files, (str, dict)) else env_files:
        entry = {"path": item} if isinstance(item, str) else item
        path = Path(_host_path(str(entry["path"]), project_dir))
        if entry.get("required", True) is False and not path.exists():
            continue
        environment.update(read_env_file(path))
    environment.update(_mapping(service.get("environment"), f"{where}.environment"))
    for key, value in list(environment.items()):
        if value is None and key in environ:  # else it stays unset, as Compose leaves it
            environment[key] = environ[key]
    if environment or "environment" in service or env_files:
        service["environment"] = environment
    if "labels" in service:
        service["labels"] = _mapping(service["labels"], f"{where}.labels")
    if "ports" in service:
        service["ports"] = [e for n, p in enumerate(service["ports"])
                            for e in parse_port(p, f"{where}.ports[{n}]")]
    if "expose" in service:
        service["expose"] = [str(e) for e in service["expose"]]
    if "volumes" in service:
        service["volumes"] = [parse_volume(v, f"{where}.volumes[{n}]", project_dir)
                              for n, v in enumerate(service["volumes"])]
    networks = service.get("networks")
    if isinstance(networks, list):
        service["networks"] = {str(n): None for n in networks}
    depends = service.get("depends_on")
    if isinstance(depends, list):
        depends = {str(d): {} for d in depends}
    if isinstance(depends, dict):
        service["depends_on"] = {
            str(k): {"condition": "service_started", "required": True, **(v or {})}
            for k, v in depends.items()}
    build = service.get("build")
    if isinstance(build, str):
        build = {"context": build}
    if isinstance(build, dict):
        context = str(build.get("context", "."))
        is_remote = "://" in context or context.startswith("git@")
        service["build"] = {**build, "context": context if is_remote else
                            _host_path(context, project_dir),
                            "dockerfile": build.get("dockerfile", "Dockerfile")}
    if "extra_hosts" in service and isinstance(service["extra_hosts"], dict):
        service["extra_hosts"] = [f"{h}={ip}" for h, ips in service["extra_hosts"].items()
                                  for ip in (ips if isinstance(ips, list) else [ips or ""])]
    for key in ("dns", "tmpfs"):
        if isinstance(service.get(key), str):
            service[key] = [service[key]]
    return service
