"""What the engine tells its callers about an image."""

from __future__ import annotations

from engine.frozen import field, frozen
from engine.images.mediatypes import OCI_LAYER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Image", "Layer"]


@frozen
class Layer:
    digest: str  # sha256:... of the blob as stored (maybe compressed)
    diff_id: str  # sha256:... of the uncompressed tar: the unpacked layer's key
    size: int  # bytes of the blob
    media_type: str = OCI_LAYER


@frozen
class Image:
    id: str  # sha256:<digest of the config blob>
    repo_tags: list[str] = field(default_factory=list)  # docker.io/library/busybox:latest
    repo_digests: list[str] = field(default_factory=list)  # docker.io/library/busybox@sha256:..
    created: str = ""
    size: int = 0  # the layers' files, as docker counts them (engine/images/sizes.py)
    architecture: str = ""
    os: str = ""
    config: dict[str, Any] = field(default_factory=dict)  # the OCI image config, whole
    layers: list[Layer] = field(default_factory=list)  # base first
    manifest_digest: str = ""
    parent: str = ""  # the image a commit or build step was made on ("": none)

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def run_config(self) -> dict[str, Any]:
        """The config's ``config`` object: Entrypoint, Cmd, Env, WorkingDir, User..."""
        value = self.config.get("config") or {}
        return value if isinstance(value, dict) else {}

    def docker_json(self) -> dict[str, Any]:
        """docker image inspect's document (engine/images/inspect.py)."""
        from engine.images.inspect import image_inspect

        return image_inspect(self)
