"""The engine's exception tree.

Low-level failures (OSError, HTTP, netlink, SQLite) become one of these at the
boundary where they happen, with a message written for the user: what failed,
why, and what to do.

    SkiffError
    ├── NotFound
    │   ├── ImageNotFound
    │   ├── ContainerNotFound
    │   ├── NetworkNotFound
    │   └── VolumeNotFound
    ├── Conflict
    │   ├── NameInUse
    │   └── InUse               (image used by a container, port taken, ...)
    ├── InvalidState            (stop a stopped container, pause a paused one)
    ├── InvalidArgument         (bad flag values, malformed references)
    ├── RegistryError           (pull/push/login/search failures)
    │   └── AuthenticationError
    ├── LayerError              (a layer that is corrupt or tries to escape)
    ├── DigestMismatch          (content that does not match its digest)
    ├── KernelFeatureMissing    (no overlayfs, no cgroup controller, ...)
    ├── DamagedState            (a database or state file that cannot be read)
    ├── DiskFull                (Skiff's own state cannot be written)
    ├── HelperError             (the privileged helper refused or died)
    │   ├── ProtocolError
    │   ├── HelperUnavailable   (it could not be started: polkit said no, no agent, ...)
    │   └── Cancelled           (the caller cancelled the request or hung up)
    └── ContainerStartError     (the container's command could not be run)
            .exit_code: 126 (cannot invoke) or 127 (not found)
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "Cancelled",
    "Conflict",
    "ContainerNotFound",
    "ContainerStartError",
    "DamagedState",
    "DigestMismatch",
    "DiskFull",
    "HelperError",
    "HelperLost",
    "HelperUnavailable",
    "ImageNotFound",
    "InUse",
    "InvalidArgument",
    "InvalidState",
    "KernelFeatureMissing",
    "LayerError",
    "NameInUse",
    "NetworkNotFound",
    "NotFound",
    "ProtocolError",
    "RegistryError",
    "SkiffError",
    "VolumeNotFound",
]


class SkiffError(Exception):
    """Base of every error the engine raises on purpose; str() is the user message."""

    #: A stable name that crosses the helper protocol and picks the class back.
    kind = "error"


class NotFound(SkiffError):
    kind = "not_found"


class ImageNotFound(NotFound):
    kind = "image_not_found"


class ContainerNotFound(NotFound):
    kind = "container_not_found"


class NetworkNotFound(NotFound):
    kind = "network_not_found"


class VolumeNotFound(NotFound):
    kind = "volume_not_found"


class Conflict(SkiffError):
    kind = "conflict"


class NameInUse(Conflict):
    kind = "name_in_use"


class InUse(Conflict):
    kind = "in_use"


class InvalidState(SkiffError):
    kind = "invalid_state"


class InvalidArgument(SkiffError):
    kind = "invalid_argument"


class RegistryError(SkiffError):
    kind = "registry"


class AuthenticationError(RegistryError):
    kind = "authentication"


class LayerError(SkiffError):
    kind = "layer"


class DigestMismatch(SkiffError):
    kind = "digest_mismatch"


class KernelFeatureMissing(SkiffError):
    kind = "kernel_feature_missing"


class DamagedState(SkiffError):
    kind = "damaged_state"


class DiskFull(SkiffError):
    kind = "disk_full"


class HelperError(SkiffError):
    kind = "helper"


class ProtocolError(HelperError):
    kind = "protocol"


class HelperUnavailable(HelperError):
    """The helper could not be started for this user; str() says why and what to do."""

    kind = "helper_unavailable"


class Cancelled(HelperError):
    kind = "cancelled"


class HelperLost(HelperError):
    """The helper died (or its connection broke) with requests unanswered: what they
    asked for may have happened anyway."""

    kind = "helper_lost"


class ContainerStartError(SkiffError):
    """The container was set up but its command could not be executed."""

    kind = "container_start"

    def __init__(self, message: str, exit_code: int = 126) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _all_kinds() -> dict[str, type[SkiffError]]:
    found: dict[str, type[SkiffError]] = {}
    stack: list[type[SkiffError]] = [SkiffError]
    while stack:
        cls = stack.pop()
        found[cls.kind] = cls
        stack.extend(cls.__subclasses__())
    return found


def from_kind(kind: str, message: str) -> SkiffError:
    """Rebuild an error that crossed the helper protocol."""
    cls = _all_kinds().get(kind, HelperError)
    return cls(message)
