"""``--security-opt``: Docker's spellings, read and stored the way Docker does.

``seccomp=PATH`` is read here, in the user's own process, so only a profile
the user can read is ever used; the file's JSON is stored compacted in its
place (``seccomp={"defaultAction":...}``, as Docker's HostConfig.SecurityOpt
shows it) and the helper checks and compiles it. The helper never opens a
path of the user's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from engine.errors import InvalidArgument

__all__ = ["normalize_security_opts", "seccomp_request"]

_MAX_PROFILE = 1 << 18  # compacted; the helper takes no more
_MAX_FILE = 4 << 20
_SUPPORTED = "Skiff supports seccomp=unconfined, seccomp=PROFILE.json and no-new-privileges"


def normalize_security_opts(options: Iterable[str]) -> list[str]:
    """Each option checked, profiles read in; InvalidArgument in one line if bad."""
    return [_normalize(option) for option in options]


def _normalize(option: str) -> str:
    key, sep, value = option.partition("=")
    if not sep and key != "no-new-privileges":
        key, sep, value = option.partition(":")  # Docker's older "seccomp:..." spelling
    if key == "no-new-privileges":
        if value not in ("", "true"):
            raise InvalidArgument(f'invalid --security-opt "{option}": Skiff always runs '
                                  "containers with no-new-privileges")
        return option
    if not value:
        raise InvalidArgument(f'invalid --security-opt "{option}": {_SUPPORTED}')
    if key == "seccomp":
        if value in ("unconfined", "builtin"):
            return f"seccomp={value}"
        if value.startswith("{"):  # the profile itself, as Docker stores it
            return f"seccomp={_compact(value, 'given inline')}"
        return f"seccomp={_compact(_read(value), value)}"
    if (key, value) in (("apparmor", "unconfined"), ("label", "disable")):
        return option  # Skiff has no AppArmor or SELinux confinement to turn off
    raise InvalidArgument(f'invalid --security-opt "{option}": {_SUPPORTED}')


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(_MAX_FILE + 1)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidArgument(f"opening seccomp profile ({path}) failed: {reason}") from None
    if len(text) > _MAX_FILE:
        raise InvalidArgument(f"seccomp profile ({path}) is larger than 4 MiB")
    return text


def _compact(text: str, name: str) -> str:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidArgument(f"seccomp profile ({name}) is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"seccomp profile ({name}) must be a JSON object")
    compact = json.dumps(data, separators=(",", ":"))
    if len(compact) > _MAX_PROFILE:
        raise InvalidArgument(f"seccomp profile ({name}) is over 256 KiB even compacted")
    return compact


def seccomp_request(options: Iterable[str]) -> str | None:
    """What the helper is asked for: None (the default), "unconfined" or a profile."""
    chosen: str | None = None
    for option in options:
        key, _, value = option.partition("=")
        if key == "seccomp":
            chosen = None if value == "builtin" else value
    return chosen
