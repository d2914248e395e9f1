"""``docker image inspect``'s JSON for a local image.

Tools and people who know docker read this shape, so it follows docker's
field names and its empty values (``null`` where docker prints null). Names are
printed in docker's familiar form (``busybox:latest``).
"""

from __future__ import annotations

from engine.errors import InvalidArgument
from engine.images.model import Image
from engine.images.reference import Reference

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["image_inspect"]

_ZERO_TIME = "0001-01-01T00:00:00Z"


def image_inspect(image: Image) -> dict[str, Any]:
    config = image.config
    run = image.run_config
    result: dict[str, Any] = {
        "Id": image.id,
        "RepoTags": [_familiar(ref) for ref in image.repo_tags],
        "RepoDigests": [_familiar(ref) for ref in image.repo_digests],
        "Parent": image.parent,
        "Comment": _text(config.get("comment")) or _history_comment(config),
        "Created": _text(config.get("created") or image.created),
        "DockerVersion": _text(config.get("docker_version")),
        "Author": _text(config.get("author")),
        "Config": _container_config(run),
        "Architecture": image.architecture or _text(config.get("architecture")),
    }
    if variant := _text(config.get("variant")):
        result["Variant"] = variant
    result["Os"] = image.os or _text(config.get("os"))
    if os_version := _text(config.get("os.version")):
        result["OsVersion"] = os_version
    result.update({
        "Size": image.size,
        "RootFS": {"Type": "layers", "Layers": [layer.diff_id for layer in image.layers]},
        "Metadata": {"LastTagTime": _ZERO_TIME},
    })
    return result


def _container_config(run: dict[str, Any]) -> dict[str, Any]:
    """The image config's ``config`` in the shape of docker's container Config."""
    config: dict[str, Any] = {
        "Hostname": "",
        "Domainname": "",
        "User": _text(run.get("User")),
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
    }
    if run.get("ExposedPorts"):
        config["ExposedPorts"] = dict(run["ExposedPorts"])
    config.update({
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": _list_or_none(run.get("Env")),
        "Cmd": _list_or_none(run.get("Cmd")),
    })
    if run.get("Healthcheck"):
        config["Healthcheck"] = run["Healthcheck"]
    if run.get("ArgsEscaped"):
        config["ArgsEscaped"] = True
    config.update({
        "Image": "",
        "Volumes": dict(run["Volumes"]) if run.get("Volumes") else None,
        "WorkingDir": _text(run.get("WorkingDir")),
        "Entrypoint": _list_or_none(run.get("Entrypoint")),
        "OnBuild": _list_or_none(run.get("OnBuild")),
        "Labels": dict(run["Labels"]) if run.get("Labels") else None,
    })
    if run.get("StopSignal"):
        config["StopSignal"] = _text(run["StopSignal"])
    if run.get("Shell"):
        config["Shell"] = _list_or_none(run["Shell"])
    return config


def _familiar(text: str) -> str:
    try:
        return Reference.parse(text).familiar
    except InvalidArgument:
        return text


def _history_comment(config: dict[str, Any]) -> str:
    # docker reports the last history entry's comment when the config has none.
    history = config.get("history")
    if isinstance(history, list) and history and isinstance(history[-1], dict):
        return _text(history[-1].get("comment"))
    return ""


def _list_or_none(value: Any) -> list[Any] | None:
    return list(value) if isinstance(value, list) and value else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
