"""docker's prune --filter (label, label!, until) as engine/prune.py reads it."""

from __future__ import annotations

from engine.prune import EVERYTHING, PruneFilter
from engine.timestamps import rfc3339_ns

OLD = "2024-01-01T00:00:00.000000000Z"
NEW = "2026-06-01T00:00:00Z"


def test_labels_must_all_be_there_and_the_negated_ones_absent() -> None:
    chosen = PruneFilter(labels=("team", "env=ci"))
    assert chosen.allows({"team": "a", "env": "ci"}, NEW)
    assert not chosen.allows({"team": "a", "env": "prod"}, NEW)
    assert not chosen.allows({"env": "ci"}, NEW)
    assert not chosen.allows(None, NEW)
    negated = PruneFilter(not_labels=("keep", "env=prod"))
    assert negated.allows({"env": "ci"}, NEW)
    assert not negated.allows({"keep": ""}, NEW)
    assert not negated.allows({"env": "prod"}, NEW)


def test_until_takes_only_what_is_older() -> None:
    cut = rfc3339_ns("2025-01-01T00:00:00Z")
    chosen = PruneFilter(until_ns=cut)
    assert chosen.allows({}, OLD)
    assert not chosen.allows({}, NEW)
    assert not chosen.allows({}, "")  # no creation time: never taken by a time filter
    assert EVERYTHING.allows(None, "")
