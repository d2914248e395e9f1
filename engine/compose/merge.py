"""Merging compose files given in order (``-f a -f b``, a file and its override).

Compose's rules, on services already in their long form: mappings merge key
by key (environment, labels, depends_on, networks, healthcheck, deploy...);
``command``, ``entrypoint`` and ``healthcheck.test`` are replaced whole;
``volumes`` merge by their target, ``ports`` by what they publish; other
lists (expose, dns, cap_add, profiles...) keep every distinct item in order.
"""

from __future__ import annotations

from typing import Any

__all__ = ["merge_files"]

_REPLACED = {"command", "entrypoint", "test"}


def merge_files(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    return _merge(base, override, ())


def _merge(base: Any, override: Any, path: tuple[str, ...]) -> Any:
    if path and path[-1] in _REPLACED:
        return override
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value, (*path, str(key))) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        if path[-1:] == ("volumes",) and len(path) == 3:
            return _by_key(base, override, lambda v: v.get("target") if isinstance(v, dict)
                           else v)
        if path[-1:] == ("ports",):
            return _by_key(base, override, lambda p: repr(sorted(p.items()))
                           if isinstance(p, dict) else p)
        return _by_key(base, override, repr)
    return override


def _by_key(base: list[Any], override: list[Any], key: Any) -> list[Any]:
    merged: dict[Any, Any] = {}
    for item in [*base, *override]:
        merged[key(item)] = item
    return list(merged.values())
