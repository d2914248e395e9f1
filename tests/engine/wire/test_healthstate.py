"""The health state in status.json: read back field by field, never trusted."""

from __future__ import annotations

import json

from engine.wire.healthstate import parse_health
from engine.wire.statusfile import parse_status


def test_a_damaged_health_record_is_ignored_not_trusted() -> None:
    good = {"Status": "healthy", "FailingStreak": 0,
            "Log": [{"Start": "a", "End": "b", "ExitCode": 0, "Output": "x" * 9000}] * 7}
    state = parse_health(good)
    assert state is not None and state.label == "healthy" and len(state.log) == 5
    assert len(state.log[0].output) == 4096
    assert parse_health({"Status": "fine"}) is None
    assert parse_health("healthy") is None
    odd = parse_health({"Status": "starting", "FailingStreak": -1, "Log": [1, {"x": 1}]})
    assert odd is not None and odd.label == "health: starting" and odd.failing_streak == 0
    assert odd.log == ()
    record = parse_status(json.dumps({"status": "running", "health": good}))
    assert record.health is not None and record.health.status == "healthy"
    assert "health" not in record.as_dict()
