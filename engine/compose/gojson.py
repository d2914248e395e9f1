"""A service as Docker Compose v2 serialises it (compose-go's ``ServiceConfig`` through Go's
``encoding/json``), for the ``com.docker.compose.config-hash`` label.

Compose decides whether ``up`` recreates a container by comparing that label with
the SHA-256 of this JSON (pkg/compose/hash.go). Skiff computes the same bytes, so
``docker compose`` (through ``skiff serve``) and ``skiff compose`` leave each other's
unchanged containers alone. What makes the bytes: the Go struct's field order,
``omitempty`` (empty strings, zero numbers, false, empty lists and maps dropped;
nil pointers dropped, non-nil ones kept even when empty; structs never dropped),
compose-go's encodings (sizes as strings of bytes, durations as Go prints them,
CPUs as float32, extra_hosts as sorted ``host=ip``), sorted map keys, and Go's
escaping of ``<``, ``>`` and ``&``. The service is the one ``up`` hashes: its
``env_file`` read into ``environment`` and dropped, variables without a value
taken from the environment or left null. ``tests/engine/compose/test_confighash.py``
compares the result with ``docker compose config --hash``.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.compose.durations import parse_compose_duration, parse_size

__all__ = ["compose_hash", "go_duration", "go_float32", "network_hash", "service_json",
           "volume_hash"]


class Float32:
    """A number Go holds as float32: printed as its shortest round-tripping decimal."""

    def __init__(self, value: float) -> None:
        self.value = value


def _f32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def go_float32(value: float) -> str:
    exact = _f32(value)
    for digits in range(1, 10):
        text = f"{exact:.{digits}g}"
        if _f32(float(text)) == exact:
            break
    decimal = Decimal(text)
    if decimal == decimal.to_integral_value():
        return str(int(decimal))
    return format(decimal.normalize(), "f")


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``: ``1m30s``, ``1h0m0s``, ``1.5s``, ``100ms``."""
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)

    def fraction(value: int, digits: int) -> str:
        whole, rest = divmod(value, 10 ** digits)
        tail = f"{rest:0{digits}d}".rstrip("0")
        return f"{whole}.{tail}" if tail else str(whole)

    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{fraction(ns, 3)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{fraction(ns, 6)}ms"
    seconds, rest = divmod(ns, 1_000_000_000)
    text = fraction((seconds % 60) * 1_000_000_000 + rest, 9) + "s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes >= 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def _encode(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{_encode(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, Float32):
        return go_float32(value.value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return json.dumps(value)


# -- compose-go's types ------------------------------------------------------------------

def _bytes(value: Any) -> str | None:
    return str(parse_size(value, "size")) if value not in (None, "") else None


def _duration(value: Any) -> str | None:
    return go_duration(parse_compose_duration(value, "duration")) if value is not None else None


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _mapping(value: Any, nulls: bool = False) -> dict[str, Any]:
    if not value:
        return {}
    if isinstance(value, list):
        pairs = [str(v).partition("=") for v in value]
        value = {k: (v if sep else (None if nulls else "")) for k, sep, v in pairs}
    return {str(k): (None if v is None and nulls else _text(v)) for k, v in sorted(
        value.items())}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _struct(fields: list[tuple[str, Callable[[Any], Any]]],
            always: frozenset[str] = frozenset()) -> Callable[[Any], dict[str, Any] | None]:
    """A Go struct: its fields in order, each converted and dropped when empty."""
    def convert(value: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        result = {}
        for name, kind in fields:
            out = kind(value.get(name))
            if name in always and out is None:
                out = {}
            if out is None or (name not in always and _empty(out)):
                continue
            result[name] = out
        return result
    return convert


def _empty(value: Any) -> bool:
    if isinstance(value, Float32):
        return value.value == 0
    if isinstance(value, bool):
        return value is False
    return value in ("", 0, [], {})


def _keep(value: Any) -> Any:
    """A value whose JSON is Compose's own (strings, numbers, lists of them)."""
    return value


def _pointer(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A pointer: present (even empty or false) unless absent."""
    def convert(value: Any) -> Any:
        return None if value is None else _Present(kind(value))
    return convert


class _Present:
    def __init__(self, value: Any) -> None:
        self.value = value


def _int(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


def _float32(value: Any) -> Float32:
    return Float32(float(value) if value not in (None, "") else 0.0)


def _list_of(kind: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    return lambda value: [kind(v) for v in value or []]


def _healthcheck_test(value: Any) -> list[str]:
    return ["CMD-SHELL", value] if isinstance(value, str) else _strings(value)


def _extra_hosts(value: Any) -> list[str]:
    if isinstance(value, dict):
        entries = [f"{h}={ip}" for h, ips in value.items()
                   for ip in (ips if isinstance(ips, list) else [ips or ""])]
    else:
        entries = []
        for item in value or []:  # HOST=IP, else HOST:IP (so IPv6 needs the "=")
            text = str(item)
            host, _sep, ip = text.partition("=" if "=" in text else ":")
            entries.append(f"{host}={ip}")
    cleaned = []
    for entry in entries:
        host, _, ip = entry.partition("=")
        if len(ip) > 2 and ip.startswith("[") and ip.endswith("]"):
            ip = ip[1:-1]
        cleaned.append(f"{host}={ip}")
    return sorted(cleaned)


def _device(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return _struct([("source", _text), ("target", _text), ("permissions", _text)])(value) \
            or {}
    parts = str(value).split(":")
    source = parts[0]
    target = parts[1] if len(parts) > 1 else source
    permissions = parts[2] if len(parts) > 2 else "rwm"
    return {"source": source, "target": target, "permissions": permissions}


def _ulimits(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, limit in sorted((value or {}).items()):
        if isinstance(limit, dict):
            result[name] = {k: int(limit[k]) for k in ("soft", "hard") if limit.get(k)}
        else:
            result[name] = int(limit)
    return result


_NETWORK = _struct([("aliases", _strings), ("driver_opts", _mapping),
                    ("gw_priority", _int), ("interface_name", _text),
                    ("ipv4_address", _text), ("ipv6_address", _text),
                    ("link_local_ips", _strings), ("mac_address", _text), ("priority", _int)])


def _networks(value: Any) -> dict[str, Any]:
    return {str(k): None if v is None else _NETWORK(v) for k, v in sorted((value or {}).items())}


_PORT = _struct([("name", _text), ("mode", _text), ("host_ip", _text), ("target", _int),
                 ("published", _text), ("protocol", _text), ("app_protocol", _text)])
_VOLUME = _struct([
    ("type", _text), ("source", _text), ("target", _text), ("read_only", bool),
    ("consistency", _text),
    ("bind", _pointer(_struct([("selinux", _text), ("propagation", _text),
                               ("create_host_path", bool), ("recursive", _text)]))),
    ("volume", _pointer(_struct([("labels", _mapping), ("nocopy", bool),
                                 ("subpath", _text)]))),
    ("tmpfs", _pointer(_struct([("size", lambda v: _bytes(v) or ""), ("mode", _int)]))),
    ("image", _pointer(_struct([("subpath", _text)]))),
])
_HEALTHCHECK = _struct([
    ("test", _healthcheck_test), ("timeout", _duration), ("interval", _duration),
    ("retries", _pointer(_int)), ("start_period", _duration),
    ("start_interval", _duration), ("disable", bool)])
_RESOURCE = _struct([("cpus", _float32), ("memory", lambda v: _bytes(v) or ""),
                     ("pids", _int), ("devices", _keep), ("generic_resources", _keep)])
_DEPLOY = _struct([
    ("mode", _text), ("replicas", _pointer(_int)), ("labels", _mapping),
    ("update_config", _keep), ("rollback_config", _keep),
    ("resources", _struct([("limits", _pointer(_RESOURCE)),
                           ("reservations", _pointer(_RESOURCE))])),
    ("restart_policy", _keep), ("placement", _keep), ("endpoint_mode", _text)],
    always=frozenset({"resources", "placement"}))
_LOGGING = _struct([("driver", _text), ("options", _mapping)])

# ServiceConfig's fields in their Go order, with the converter of each. ``command`` and
# ``entrypoint`` have no omitempty (null when unset); pointers stay when present.
_SERVICE: list[tuple[str, Callable[[Any], Any]]] = [
    ("profiles", _strings), ("annotations", _mapping), ("attach", _pointer(bool)),
    ("build", _keep), ("develop", _keep), ("blkio_config", _keep), ("cap_add", _strings),
    ("cap_drop", _strings), ("cgroup_parent", _text), ("cgroup", _text),
    ("cpu_count", _int), ("cpu_percent", _float32), ("cpu_period", _int),
    ("cpu_quota", _int), ("cpu_rt_period", _int), ("cpu_rt_runtime", _int),
    ("cpus", _float32), ("cpuset", _text), ("cpu_shares", _int), ("command", _keep),
    ("configs", _keep), ("container_name", _text), ("credential_spec", _keep),
    ("depends_on", _keep), ("deploy", _pointer(_DEPLOY)), ("device_cgroup_rules", _strings),
    ("devices", _list_of(_device)), ("dns", _strings), ("dns_opt", _strings),
    ("dns_search", _strings), ("dockerfile", _text), ("domainname", _text),
    ("entrypoint", _keep), ("provider", _keep),
    ("environment", lambda v: _mapping(v, nulls=True)), ("env_file", _keep),
    ("expose", _strings), ("extends", _keep), ("external_links", _strings),
    ("extra_hosts", _extra_hosts), ("group_add", _strings), ("gpus", _keep),
    ("hostname", _text), ("healthcheck", _pointer(_HEALTHCHECK)), ("image", _text),
    ("init", _pointer(bool)), ("ipc", _text), ("isolation", _text), ("labels", _mapping),
    ("label_file", _strings), ("links", _strings), ("logging", _pointer(_LOGGING)),
    ("log_driver", _text), ("log_opt", _mapping), ("mem_limit", lambda v: _bytes(v) or ""),
    ("mem_reservation", lambda v: _bytes(v) or ""),
    ("memswap_limit", lambda v: _bytes(v) or ""),
    ("mem_swappiness", lambda v: _bytes(v) or ""), ("mac_address", _text),
    ("models", _keep), ("net", _text), ("network_mode", _text), ("networks", _networks),
    ("oom_kill_disable", bool), ("oom_score_adj", _int), ("pid", _text),
    ("pids_limit", _int), ("platform", _text), ("ports", _list_of(_PORT)),
    ("privileged", bool), ("pull_policy", _text), ("read_only", bool), ("restart", _text),
    ("runtime", _text), ("scale", _pointer(_int)), ("secrets", _keep),
    ("security_opt", _strings), ("shm_size", lambda v: _bytes(v) or ""),
    ("stdin_open", bool), ("stop_grace_period", _duration), ("stop_signal", _text),
    ("storage_opt", _mapping), ("sysctls", _mapping), ("tmpfs", _strings), ("tty", bool),
    ("ulimits", _ulimits), ("use_api_socket", bool), ("user", _text),
    ("userns_mode", _text), ("uts", _text), ("volume_driver", _text),
    ("volumes", _list_of(_VOLUME)), ("volumes_from", _strings), ("working_dir", _text),
    ("post_start", _keep), ("pre_stop", _keep),
]
_ALWAYS = frozenset({"command", "entrypoint"})


def _resolve(value: Any) -> Any:
    """Unwrap the markers of present pointers, recursively."""
    if isinstance(value, _Present):
        return _resolve(value.value)
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


def service_json(service: dict[str, Any]) -> dict[str, Any]:
    """The service in Compose's JSON form (field order and encodings), as ``docker compose
    config --format json`` prints it."""
    result: dict[str, Any] = {}
    for name, kind in _SERVICE:
        raw = service.get(name)
        if name in _ALWAYS:
            result[name] = raw
            continue
        if raw is None:
            continue
        out = kind(raw)
        if out is None or (not isinstance(out, _Present) and _empty(out)):
            continue
        result[name] = out
    return dict(_resolve(result))


def compose_hash(service: dict[str, Any]) -> str:
    """``ServiceHash``: the JSON without what building, pulling, scaling and dependencies
    alone change."""
    model = service_json(service)
    for name in ("build", "pull_policy", "scale", "depends_on", "profiles"):
        model.pop(name, None)
    if "deploy" in model:
        model["deploy"] = {k: v for k, v in model["deploy"].items() if k != "replicas"}
    return hashlib.sha256(_encode(model).encode()).hexdigest()


_IPAM_POOL = _struct([("subnet", _text), ("gateway", _text), ("ip_range", _text),
                      ("aux_addresses", _mapping)])
_NETWORK_CONFIG = _struct([
    ("name", _text), ("driver", _text), ("driver_opts", _mapping),
    ("ipam", _struct([("driver", _text), ("config", _list_of(lambda p: _IPAM_POOL(p) or {}))])),
    ("external", bool), ("internal", bool), ("attachable", bool), ("labels", _mapping),
    ("enable_ipv4", _pointer(bool)), ("enable_ipv6", _pointer(bool))],
    always=frozenset({"ipam"}))
_VOLUME_CONFIG = _struct([("name", _text), ("driver", _text), ("driver_opts", _mapping),
                          ("external", bool), ("labels", _mapping)])


def _digest(model: dict[str, Any] | None) -> str:
    return hashlib.sha256(_encode(_resolve(model or {})).encode()).hexdigest()


def network_hash(network: dict[str, Any]) -> str:
    """Compose's ``NetworkHash``: the label a project's network carries."""
    return _digest(_NETWORK_CONFIG(network))


def volume_hash(volume: dict[str, Any]) -> str:
    """Compose's ``VolumeHash``: the label a project's volume carries (driver local when
    none is named)."""
    return _digest(_VOLUME_CONFIG({**volume, "driver": volume.get("driver") or "local"}))
