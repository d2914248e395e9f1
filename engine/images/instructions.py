"""The Dockerfile instructions ``import -c`` applies to the new image's config.

docker import takes CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL,
USER, VOLUME and WORKDIR. Skiff takes them all but ONBUILD (it does not build
images, so a trigger would never run); anything else is refused in docker's
words ("RUN is not a valid change command").
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from engine.errors import InvalidArgument

__all__ = ["SUPPORTED", "apply_changes"]

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
             "WORKDIR")
_DOCKER_ONLY = ("ONBUILD", "HEALTHCHECK")


def apply_changes(config: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """``config`` (an image config's ``config`` object) with the instructions applied."""
    result = dict(config)
    for change in changes:
        keyword, _, rest = change.strip().partition(" ")
        instruction = keyword.upper()
        rest = rest.strip()
        if instruction in _DOCKER_ONLY:
            raise InvalidArgument(f"{instruction} is not supported by skiff import: use "
                                  f"{', '.join(SUPPORTED[:-1])} or {SUPPORTED[-1]}")
        if instruction not in SUPPORTED:
            raise InvalidArgument(f"{instruction or repr(change)} is not a valid change "
                                  "command")
        if not rest:
            raise InvalidArgument(f"{instruction} requires at least one argument")
        _apply(result, instruction, rest)
    return result


def _apply(config: dict[str, Any], instruction: str, rest: str) -> None:
    if instruction in ("CMD", "ENTRYPOINT"):
        key = "Cmd" if instruction == "CMD" else "Entrypoint"
        config[key] = _command(rest)
    elif instruction == "ENV":
        env = {item.partition("=")[0]: item for item in config.get("Env") or []}
        for key, value in _pairs(rest, instruction).items():
            env[key] = f"{key}={value}"
        config["Env"] = list(env.values())
    elif instruction == "LABEL":
        config["Labels"] = {**(config.get("Labels") or {}), **_pairs(rest, instruction)}
    elif instruction == "EXPOSE":
        ports = dict(config.get("ExposedPorts") or {})
        for word in _words(rest):
            number, _, protocol = word.partition("/")
            if not number.isdigit() or not 0 < int(number) < 65536 or \
                    protocol not in ("", "tcp", "udp", "sctp"):
                raise InvalidArgument(f"invalid port {word!r} in EXPOSE: use PORT[/PROTO]")
            ports[f"{int(number)}/{protocol or 'tcp'}"] = {}
        config["ExposedPorts"] = ports
    elif instruction == "VOLUME":
        paths = _json_list(rest) if rest.startswith("[") else _words(rest)
        config["Volumes"] = {**(config.get("Volumes") or {}), **{p: {} for p in paths}}
    elif instruction == "WORKDIR":
        path = _words(rest)[0]
        if not path.startswith("/"):
            path = f"{(config.get('WorkingDir') or '/').rstrip('/')}/{path}"
        config["WorkingDir"] = path
    elif instruction == "USER":
        config["User"] = _words(rest)[0]
    elif instruction == "STOPSIGNAL":
        config["StopSignal"] = _words(rest)[0]


def _command(rest: str) -> list[str]:
    """The JSON form as given, the shell form through /bin/sh -c (as docker does)."""
    if rest.startswith("["):
        return _json_list(rest)
    return ["/bin/sh", "-c", rest]


def _json_list(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"{text!r} is not a JSON list of strings")
    return value


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidArgument(f"cannot read {text!r}: {exc} (check the quotes)") from None


def _pairs(rest: str, instruction: str) -> dict[str, str]:
    """KEY=VALUE ... (quotes allowed), or the old ``KEY VALUE`` form."""
    words = _words(rest)
    if words and "=" not in words[0]:
        if len(words) < 2:
            raise InvalidArgument(f"{instruction} {rest!r} needs a value: {instruction} "
                                  "KEY=VALUE")
        return {words[0]: rest.split(None, 1)[1].strip()}
    pairs = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InvalidArgument(f"{instruction} {word!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs
