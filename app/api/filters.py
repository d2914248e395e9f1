"""Matching objects against the ``filters`` of list and prune endpoints, as dockerd does.

:func:`app.api.params.filters` reads the query (either spelling) into
``{"label": ["a=b"]}``; :class:`Filters` answers the questions every endpoint
asks of it: labels present or absent, names by prefix or glob, true/false.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

from app.api.backend import PruneFilter, parse_timestamp
from engine import InvalidArgument

__all__ = ["Filters", "prune_filter"]


class Filters:
    """Filter name → the values asked for (each name's values are OR'ed, names AND'ed)."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self.values = dict(values)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def boolean(self, name: str) -> bool | None:
        """A true/false filter (``dangling``); None when not given."""
        values = self.get(name)
        if not values:
            return None
        wanted = {_truth(name, v) for v in values}
        if len(wanted) > 1:
            raise InvalidArgument(f"invalid filter '{name}': conflicting values")
        return wanted.pop()

    def labels_match(self, labels: Mapping[str, str] | None, name: str = "label") -> bool:
        """Every ``key`` or ``key=value`` of the filter is on ``labels``."""
        labels = labels or {}
        for item in self.get(name):
            key, eq, value = item.partition("=")
            if key not in labels or (eq and labels[key] != value):
                return False
        return True

    def labels_absent(self, labels: Mapping[str, str] | None) -> bool:
        """``label!=key`` / ``label!=key=value``: none of them is on ``labels``."""
        labels = labels or {}
        for item in self.get("label!"):
            key, eq, value = item.partition("=")
            if key in labels and (not eq or labels[key] == value):
                return False
        return True

    def any_matches(self, name: str, candidates: Iterable[str], *, prefix: bool = False,
                    glob: bool = False, substring: bool = False) -> bool:
        """True if the filter is absent or one of its values matches one candidate."""
        values = self.get(name)
        if not values:
            return True
        found = list(candidates)
        for value in values:
            for candidate in found:
                if (candidate == value or (prefix and candidate.startswith(value))
                        or (glob and fnmatch.fnmatchcase(candidate, value))
                        or (substring and value in candidate)):
                    return True
        return False


def _truth(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidArgument(f"invalid filter '{name}={value}'")


def prune_filter(filters: Filters) -> PruneFilter:
    """The engine's PruneFilter of a prune endpoint's ``label``, ``label!`` and ``until``."""
    untils = filters.get("until")
    if len(untils) > 1:
        raise InvalidArgument("more than one until filter was given")
    return PruneFilter(tuple(filters.get("label")), tuple(filters.get("label!")),
                       parse_timestamp(untils[0]) if untils else None)
