"""Which compose files a project has, its name, and its ``.env``: Docker Compose's rules.

Without ``-f``, the first of compose.yaml, compose.yml, docker-compose.yaml,
docker-compose.yml in the working directory or the nearest parent, plus its
override file (compose.override.yaml, ...) beside it. The project's name is
``-p``, else COMPOSE_PROJECT_NAME, else the top-level ``name:``, else the
project directory's name, lowercased and reduced to [a-z0-9_-].
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from engine.errors import InvalidArgument

__all__ = ["find_files", "normalize_project_name", "read_env_file", "valid_project_name"]

CANDIDATES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def find_files(workdir: Path) -> list[Path]:
    """The default files: the first candidate in ``workdir`` or a parent, and its override."""
    for directory in (workdir, *workdir.parents):
        for name in CANDIDATES:
            found = directory / name
            if found.is_file():
                stem, suffix = name.rsplit(".", 1)
                override = directory / f"{stem}.override.{suffix}"
                return [found, override] if override.is_file() else [found]
    raise InvalidArgument("no configuration file provided: not found")


def normalize_project_name(name: str) -> str:
    """A directory's name as Compose makes a project name of it."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("_-")


def valid_project_name(name: str) -> str:
    if not _PROJECT_NAME.match(name):
        raise InvalidArgument(f'invalid project name "{name}": must consist only of lowercase '
                              "alphanumeric characters, hyphens, and underscores as well as "
                              "start with a letter or number")
    return name


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=?)(.*)$")


def read_env_file(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A ``.env`` file as Compose reads it: KEY=VALUE lines, # comments, quotes,
    ``export``; unquoted and double-quoted values interpolate the earlier ones."""
    from engine.compose.interpolate import substitute

    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidArgument(f"couldn't read env file {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise InvalidArgument(f"{path}:{number}: unexpected character in variable name "
                                  f"{line.split('=')[0]!r}")
        key, equals, value = match.groups()
        if not equals:
            if environ is not None and key in environ:
                values[key] = environ[key]
            continue
        value = value.strip()
        if value[:1] == "'" and value.endswith("'") and len(value) >= 2:
            values[key] = value[1:-1]
            continue
        if value[:1] == '"' and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace("\\n", "\n").replace('\\"', '"')
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].rstrip()
        values[key] = substitute(value, {**(environ or {}), **values}, f"{path}:{number}")
    return values
