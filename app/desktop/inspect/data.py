"""What the Ports and Volumes tabs show, read from a container's inspect document.

The engine's ``inspect`` has docker's shape; these functions read it
defensively (published ports under NetworkSettings, configured ones under
HostConfig; mounts under Mounts or HostConfig.Mounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MountRow", "PortRow", "mounts", "ports"]

_ANY = ("", "0.0.0.0", "::")
_HTTPS = (443, 8443)


@dataclass(frozen=True)
class PortRow:
    container: str  # 80/tcp
    host_ip: str
    host_port: str  # "" when not published, or chosen when the container starts
    url: str  # "" when there is nothing to open

    @property
    def description(self) -> str:
        if not self.host_port:
            return "not published"
        host = self.host_ip if self.host_ip not in _ANY else "all addresses"
        return f"{host}, port {self.host_port}"


@dataclass(frozen=True)
class MountRow:
    type: str  # bind | volume | tmpfs
    source: str  # host path, volume name or ""
    destination: str
    read_only: bool

    @property
    def folder(self) -> Path | None:
        """The host folder to open, when there is one on this machine."""
        if not self.source.startswith("/"):
            return None
        path = Path(self.source)
        if path.is_dir():
            return path
        if path.exists():
            return path.parent
        return None


def _url(port: int, protocol: str, host_ip: str, host_port: str) -> str:
    if protocol != "tcp" or not host_port or host_port == "0":
        return ""
    host = "localhost" if host_ip in _ANY else (f"[{host_ip}]" if ":" in host_ip else host_ip)
    scheme = "https" if port in _HTTPS else "http"
    return f"{scheme}://{host}:{host_port}"


def ports(doc: dict[str, Any]) -> list[PortRow]:
    network = doc.get("NetworkSettings") or {}
    published: dict[str, Any] = dict(network.get("Ports") or {})
    configured: dict[str, Any] = dict((doc.get("HostConfig") or {}).get("PortBindings") or {})
    exposed: dict[str, Any] = dict((doc.get("Config") or {}).get("ExposedPorts") or {})
    keys = list(dict.fromkeys([*published, *configured, *exposed]))
    rows: list[PortRow] = []
    for key in sorted(keys, key=_port_sort_key):
        number, _, protocol = key.partition("/")
        protocol = protocol or "tcp"
        bindings = published.get(key) or configured.get(key) or []
        if not bindings:
            rows.append(PortRow(key, "", "", ""))
            continue
        for binding in bindings:
            host_ip = str(binding.get("HostIp") or "")
            host_port = str(binding.get("HostPort") or "")
            url = _url(int(number) if number.isdigit() else 0, protocol, host_ip, host_port)
            rows.append(PortRow(key, host_ip, host_port, url))
    return rows


def _port_sort_key(key: str) -> tuple[int, str]:
    number, _, protocol = key.partition("/")
    return (int(number) if number.isdigit() else 0, protocol)


def mounts(doc: dict[str, Any]) -> list[MountRow]:
    rows = []
    for mount in doc.get("Mounts") or []:
        rows.append(MountRow(str(mount.get("Type") or "bind"), str(mount.get("Source") or ""),
                             str(mount.get("Destination") or mount.get("Target") or ""),
                             not mount.get("RW", True)))
    if rows:
        return rows
    for mount in (doc.get("HostConfig") or {}).get("Mounts") or []:
        rows.append(MountRow(str(mount.get("Type") or "bind"), str(mount.get("Source") or ""),
                             str(mount.get("Target") or ""), bool(mount.get("ReadOnly"))))
    return rows
