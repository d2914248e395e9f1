"""Log size limits: Docker's ``--log-driver``/``--log-opt`` for the json-file and local
drivers, and the user's default cap.

The monitor rotates a container's log past ``max-size`` and keeps ``max-file``
files (engine/wire/logformat.py). A container's options are the ones asked,
merged at create with the user's ``log-opts`` from ``~/.config/skiff/daemon.json``
(Docker's daemon.json key), and inspect shows them so, as dockerd does. Without
a ``max-size`` the log is capped at run time as Docker's local driver does
(20 MB, 5 files unless ``max-file`` says otherwise): nothing grows without
bound unless asked (``max-size=-1``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from engine.errors import InvalidArgument
from engine.paths import user_config_dir

__all__ = ["DEFAULT_OPTIONS", "DRIVERS", "capped", "log_limits", "parse_log_options",
           "user_defaults"]

DRIVERS = ("json-file", "local", "none")  # none: the output is not kept
DEFAULT_OPTIONS = {"max-size": "20m", "max-file": "5"}
_KNOWN = ("max-size", "max-file", "compress", "mode", "max-buffer-size", "labels", "env",
          "tag")
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3}


def parse_log_options(driver: str, values: Iterable[str]) -> dict[str, str]:
    """``--log-opt KEY=VALUE`` as Docker checks them; InvalidArgument in its words."""
    driver = driver or "json-file"
    if driver not in DRIVERS:
        raise InvalidArgument(f'logger: no log driver named \'{driver}\' is registered '
                              f'(Skiff supports {", ".join(DRIVERS)})')
    options: dict[str, str] = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid key value pair format in log options: {value}")
        if key not in _KNOWN or driver == "none":
            raise InvalidArgument(f"unknown log opt '{key}' for {driver} log driver")
        options[key] = setting
    log_limits(options)  # refuse bad sizes now, not at start
    return options


def log_limits(options: dict[str, str]) -> tuple[int, int]:
    """(max bytes per file or 0 for no limit, files kept)."""
    size_text = options.get("max-size", "-1").strip().lower()
    if size_text == "-1":
        size = 0
    else:
        number = size_text.rstrip("bkmg")
        unit = size_text[len(number):]
        try:
            size = int(float(number) * _UNITS[unit])
        except (ValueError, KeyError):
            raise InvalidArgument(f"failed to parse max-size {options['max-size']!r}: "
                                  "a size such as 10m, 500k or 1g") from None
        if size <= 0:
            raise InvalidArgument("max-size must be a positive size, or -1 for no limit")
    files_text = options.get("max-file", "1")
    if not files_text.isdigit() or int(files_text) < 1:
        raise InvalidArgument(f"max-file must be a whole number of at least 1, not "
                              f"{files_text!r}")
    return size, int(files_text)


def capped(options: dict[str, str]) -> dict[str, str]:
    """The options a container runs with: without a ``max-size``, the default cap."""
    return options if "max-size" in options else {**DEFAULT_OPTIONS, **options}


def user_defaults() -> dict[str, str]:
    """``log-opts`` of the user's daemon.json (none: {})."""
    try:
        with open(os.path.join(user_config_dir(), "daemon.json"), encoding="utf-8") as f:
            data = json.load(f)
        options = data.get("log-opts")
        if isinstance(options, dict) and options:
            chosen = {str(k): str(v) for k, v in options.items()}
            log_limits(chosen)
            return chosen
    except (OSError, ValueError, AttributeError, InvalidArgument):
        pass
    return {}
