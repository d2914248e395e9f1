"""Registry credentials: Skiff's own file, then docker's and podman's, read-only.

Skiff writes ``<user config>/skiff/auth.json`` (mode 0600) in docker's
``config.json`` format, ``{"auths": {"host": {"auth": base64("user:pass")}}}``,
so the files are interchangeable. Credentials a user already gave docker
(``~/.docker/config.json``) or podman (``$XDG_RUNTIME_DIR/containers/auth.json``)
are used too, but never changed. Docker Hub is keyed
``https://index.docker.io/v1/`` as docker keys it; other registries by host:port,
accepting the ``https://host/v2/`` forms other tools write.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InvalidArgument, RegistryError
from engine.images.reference import registry_host
from engine.paths import user_config_dir

__all__ = ["DOCKER_HUB_KEY", "CredentialStore", "Credentials", "registry_key"]

DOCKER_HUB_KEY = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password by accident
        return f"Credentials(username={self.username!r}, password='***')"


def _host_of(key: str) -> str:
    """``https://index.docker.io/v1/`` → ``docker.io``; ``http://h:5000/x`` → ``h:5000``."""
    return registry_host(key)


def registry_key(registry: str) -> str:
    """The key Skiff writes for ``registry`` (docker's key for Docker Hub)."""
    host = _host_of(registry)
    if not host:
        raise InvalidArgument(f"invalid registry name {registry!r}")
    return DOCKER_HUB_KEY if host == "docker.io" else host


class CredentialStore:
    """Lookup order: Skiff's file, then docker's, then podman's."""

    def __init__(self, path: Path | None = None,
                 fallbacks: list[Path] | None = None) -> None:
        self.path = path or Path(user_config_dir(), "auth.json")
        if fallbacks is None:
            fallbacks = [Path.home() / ".docker" / "config.json"]
            runtime = os.environ.get("XDG_RUNTIME_DIR")
            if runtime:
                fallbacks.append(Path(runtime) / "containers" / "auth.json")
        self.fallbacks = fallbacks

    def get(self, registry: str) -> Credentials | None:
        host = _host_of(registry)
        for path in (self.path, *self.fallbacks):
            found = _lookup(_read(path), host)
            if found is not None:
                return found
        return None

    def store(self, registry: str, credentials: Credentials) -> None:
        doc = _read(self.path, strict=True)
        auths = doc.setdefault("auths", {})
        if not isinstance(auths, dict):
            auths = doc["auths"] = {}
        host = _host_of(registry)
        for key in [k for k in auths if _host_of(k) == host]:
            del auths[key]
        token = f"{credentials.username}:{credentials.password}".encode()
        auths[registry_key(registry)] = {"auth": base64.b64encode(token).decode()}
        self._write(doc)

    def remove(self, registry: str) -> bool:
        """Forget ``registry`` in Skiff's file; False if it held nothing for it."""
        doc = _read(self.path, strict=True)
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            return False
        host = _host_of(registry)
        keys = [k for k in auths if _host_of(k) == host]
        for key in keys:
            del auths[key]
        if keys:
            self._write(doc)
        return bool(keys)

    def _write(self, doc: dict[str, Any]) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".auth-", suffix=".json")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(doc, out, indent="\t")
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def _read(path: Path, *, strict: bool = False) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as e:
        if strict:
            raise RegistryError(f"cannot read the credentials file {path}: {e.strerror}") \
                from None
        return {}
    try:
        doc = json.loads(text) if text.strip() else {}
    except ValueError:
        if strict:
            raise RegistryError(f"the credentials file {path} is not valid JSON; "
                                "fix or remove it") from None
        return {}
    return doc if isinstance(doc, dict) else {}


def _lookup(doc: dict[str, Any], host: str) -> Credentials | None:
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if _host_of(key) != host or not isinstance(entry, dict):
            continue
        found = _decode(entry)
        if found is not None:
            return found
    return None


def _decode(entry: dict[str, Any]) -> Credentials | None:
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            text = base64.b64decode(auth, validate=False).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, secret = text.partition(":")
        return Credentials(name, secret) if sep and name else None
    user, password = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(password, str) and user:
        return Credentials(user, password)
    return None
