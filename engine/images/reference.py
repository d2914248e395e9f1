"""Image references, normalised the way docker does.

``busybox`` → ``docker.io/library/busybox:latest``; ``localhost:5000/x`` keeps its
registry; a first component with a dot, a colon or equal to ``localhost`` is a
registry host. ``familiar`` is the short form docker prints (``busybox:latest``).

This is the one reference parser: the CLI, the window and the REST API print
references with :func:`familiar` and :func:`split_familiar`, never by cutting
strings of their own.
"""

from __future__ import annotations

import re

from engine.errors import InvalidArgument
from engine.frozen import frozen

__all__ = ["DOCKER_HUB", "DOCKER_HUB_NAMES", "Reference", "api_host", "familiar", "registry_host",
           "split_familiar"]

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
#: The names Docker Hub goes by, in references, logins and docker's config.json.
DOCKER_HUB_NAMES = frozenset({DOCKER_HUB, "index.docker.io", DOCKER_HUB_API,
                              "registry.hub.docker.com"})

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REPOSITORY = rf"^{_COMPONENT}(?:/{_COMPONENT})*$"
_TAG = r"^[\w][\w.-]{0,127}$"
_DIGEST = r"^sha256:[a-f0-9]{64}$"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"  # distribution/reference's domain part
_HOST = rf"^(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$"


@frozen
class Reference:
    registry: str  # docker.io, ghcr.io, 127.0.0.1:5000
    repository: str  # library/busybox
    tag: str = ""  # "" when only a digest was given
    digest: str = ""  # sha256:...

    @classmethod
    def parse(cls, text: str, default_tag: bool = True) -> Reference:
        """docker's reading of ``text``; without a tag or digest it means ``:latest``,
        unless ``default_tag`` is False (then the tag stays "")."""
        original = text
        if not text or text != text.strip():
            raise InvalidArgument(f"invalid reference format: {original!r}")
        digest = ""
        if "@" in text:
            text, digest = text.split("@", 1)
            if not re.match(_DIGEST, digest):
                raise InvalidArgument(f"invalid reference format: {original!r} "
                                      "(a digest is sha256: and 64 hex digits)")
        tag = ""
        slash = text.rfind("/")
        colon = text.rfind(":")
        if colon > slash:
            text, tag = text[:colon], text[colon + 1:]
            if not re.match(_TAG, tag):
                raise InvalidArgument(f"invalid reference format: {original!r} "
                                      f"(bad tag {tag!r})")
        first, _, rest = text.partition("/")
        named_host = "." in first or ":" in first or first == "localhost"
        # Docker Hub's names need no pattern (~0.4 ms to compile, of a first `skiff images`)
        if rest and named_host and (first in DOCKER_HUB_NAMES or re.match(_HOST, first)):
            registry, path = first, rest
        else:
            registry, path = DOCKER_HUB, text
        if registry in DOCKER_HUB_NAMES:
            registry = DOCKER_HUB
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        if not re.match(_REPOSITORY, path):
            hint = " (repository names must be lowercase)" if path.lower() != path else ""
            raise InvalidArgument(f"invalid reference format: {original!r}{hint}")
        if not tag and not digest and default_tag:
            tag = "latest"
        return cls(registry, path, tag, digest)

    @property
    def name(self) -> str:
        """registry/repository, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def canonical(self) -> str:
        """The full form stored in RepoTags/RepoDigests: docker.io/library/busybox:latest."""
        return self.name + self._suffix

    @property
    def familiar_name(self) -> str:
        """The repository as docker prints it: busybox, user/app, ghcr.io/org/app."""
        if self.registry == DOCKER_HUB:
            return self.repository.removeprefix("library/")
        return self.name

    @property
    def familiar(self) -> str:
        return self.familiar_name + self._suffix

    @property
    def _suffix(self) -> str:
        """``:tag``, ``@digest``, both or neither, as given."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def api_host(self) -> str:
        """The host that serves the registry API (Docker Hub's differs from its name)."""
        return api_host(self.registry)

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, "")

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, "", digest)

    def __str__(self) -> str:
        return self.canonical


def familiar(text: str) -> str:
    """docker's short form of a reference, tag and digest as given:
    ``docker.io/library/busybox:1`` → ``busybox:1``; text that is no reference
    (an image ID, ``<none>``) comes back unchanged."""
    try:
        return Reference.parse(text, default_tag=False).familiar
    except InvalidArgument:
        return text


def split_familiar(text: str) -> tuple[str, str, str]:
    """(repository as docker prints it, tag, digest), "" for the parts not given:
    ``docker.io/library/busybox:1`` → (``busybox``, ``1``, ""); no reference → (text, "", "")."""
    try:
        ref = Reference.parse(text, default_tag=False)
    except InvalidArgument:
        return text, "", ""
    return ref.familiar_name, ref.tag, ref.digest


def registry_host(text: str) -> str:
    """A registry as people write it (``docker.io``, ``https://index.docker.io/v1/``,
    ``http://h:5000/x``) → its host as references name it (docker.io for Docker Hub);
    "" when it names no host."""
    host = text.strip()
    for scheme in ("https://", "http://"):
        host = host.removeprefix(scheme)
    host = host.split("/", 1)[0].lower()
    if not re.match(_HOST, host):
        return ""
    return DOCKER_HUB if host in DOCKER_HUB_NAMES else host


def api_host(registry: str) -> str:
    """The host:port that serves a registry's API (Docker Hub's differs from its name)."""
    host = registry_host(registry)
    return DOCKER_HUB_API if host == DOCKER_HUB else host
