"""Where a registry's API lives and how to talk to it safely.

HTTPS with the system's CA certificates is the rule. Plain HTTP (and HTTPS
without certificate checks) is only tried for registries on this machine
(localhost, 127.0.0.0/8, ::1) and for the ones the user marks insecure, in
``SKIFF_INSECURE_REGISTRIES`` (comma separated) or in
``~/.config/skiff/registries.json`` (``{"insecure": ["host:port", ...]}``).
Extra CA certificates for one registry are read from
``~/.config/skiff/certs.d/<host>/*.crt`` and ``/etc/containers/certs.d/<host>/``
or ``/etc/docker/certs.d/<host>/``, as podman and docker do.
"""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.images.reference import api_host
from engine.paths import user_config_dir

__all__ = ["Endpoint", "EndpointPolicy", "insecure_from_settings"]

ENV_INSECURE = "SKIFF_INSECURE_REGISTRIES"
SETTINGS_FILE = "registries.json"
_SYSTEM_CERT_DIRS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


@dataclass(frozen=True)
class Endpoint:
    """One way to reach a registry: ``https://host`` or, where allowed, ``http://host``."""

    host: str  # host[:port], the API host
    scheme: str  # https | http
    verify: bool  # check the TLS certificate (https only)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"


def insecure_from_settings() -> list[str]:
    """Registries marked insecure by the environment and the settings file."""
    names = [n.strip() for n in os.environ.get(ENV_INSECURE, "").split(",") if n.strip()]
    path = Path(user_config_dir(), SETTINGS_FILE)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        doc = {}
    listed = doc.get("insecure") if isinstance(doc, dict) else None
    if isinstance(listed, list):
        names.extend(str(n).strip() for n in listed if str(n).strip())
    return names


class EndpointPolicy:
    """Decides the endpoints to try for a registry, in order, and their TLS contexts."""

    def __init__(self, insecure: Iterable[str] = (), *, local_is_insecure: bool = True) -> None:
        self.insecure = {api_host(n.removeprefix("https://").removeprefix("http://").rstrip("/"))
                         for n in insecure}
        self.local_is_insecure = local_is_insecure
        self._contexts: dict[str, ssl.SSLContext] = {}

    def is_insecure(self, host: str) -> bool:
        return host in self.insecure or (self.local_is_insecure and _is_local(host))

    def candidates(self, registry: str) -> Sequence[Endpoint]:
        host = api_host(registry)
        if not self.is_insecure(host):
            return (Endpoint(host, "https", True),)
        # As docker does for insecure registries: HTTPS without checks, then HTTP.
        return (Endpoint(host, "https", False), Endpoint(host, "http", False))

    def ssl_context(self, endpoint: Endpoint) -> ssl.SSLContext:
        key = f"{endpoint.host}|{endpoint.verify}"
        context = self._contexts.get(key)
        if context is None:
            if endpoint.verify:
                context = ssl.create_default_context()  # the system's CA certificates
                for cert in _extra_certificates(endpoint.host):
                    context.load_verify_locations(cafile=str(cert))
            else:  # no certificates to load (that took 50-150 ms of every local pull)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._contexts[key] = context
        return context


def _is_local(host: str) -> bool:
    name = host
    if name.startswith("["):
        name = name[1:name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _extra_certificates(host: str) -> list[Path]:
    found: list[Path] = []
    for base in (Path(user_config_dir(), "certs.d"), *_SYSTEM_CERT_DIRS):
        directory = base / host
        try:
            found.extend(sorted(p for p in directory.iterdir() if p.suffix == ".crt"))
        except OSError:
            continue
    return found
