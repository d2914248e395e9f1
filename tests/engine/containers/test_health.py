"""Healthcheck config: Docker's merge with the image's, the probe, the recorded state."""

from __future__ import annotations

import json

import pytest

from engine.containers.health import (
    Healthcheck,
    go_duration,
    merge_healthcheck,
    parse_health,
    probe_request,
)
from engine.containers.statusfile import parse_status
from engine.errors import InvalidArgument

S = 1_000_000_000
IMAGE = {"Test": ["CMD-SHELL", "wget -q localhost"], "Interval": 10 * S, "Retries": 5}


def test_the_image_healthcheck_is_used_when_the_container_has_none() -> None:
    merged = merge_healthcheck(None, IMAGE)
    assert merged == Healthcheck(["CMD-SHELL", "wget -q localhost"], interval=10 * S, retries=5)
    assert probe_request(merged) == {
        "args": ["/bin/sh", "-c", "wget -q localhost"], "interval": 10 * S,
        "timeout": 30 * S, "start_period": 0, "start_interval": 5 * S, "retries": 5}


def test_the_container_fields_win_and_zero_ones_take_the_image() -> None:
    own = Healthcheck([], timeout=2 * S, retries=1)
    merged = merge_healthcheck(own, IMAGE)
    assert merged == Healthcheck(["CMD-SHELL", "wget -q localhost"], interval=10 * S,
                                 timeout=2 * S, retries=1)


def test_none_disables_and_cmd_runs_without_a_shell() -> None:
    assert probe_request(merge_healthcheck(Healthcheck(["NONE"]), IMAGE)) is None
    assert probe_request(None) is None
    probe = probe_request(Healthcheck(["CMD", "true", "x"]), ["/bin/bash", "-c"])
    assert probe is not None and probe["args"] == ["true", "x"]
    shell = probe_request(Healthcheck(["CMD-SHELL", "exit 0"]), ["/bin/ash", "-c"])
    assert shell is not None and shell["args"] == ["/bin/ash", "-c", "exit 0"]


def test_bad_healthchecks_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="NONE, CMD or CMD-SHELL"):
        Healthcheck(["SHELL", "x"])
    with pytest.raises(InvalidArgument, match="less than 1ms"):
        Healthcheck(["CMD", "true"], interval=10)


def test_the_docker_shape_round_trips() -> None:
    check = Healthcheck(["CMD", "true"], interval=S, start_period=2 * S, retries=4)
    assert check.to_docker() == {"Test": ["CMD", "true"], "Interval": S, "StartPeriod": 2 * S,
                                 "Retries": 4}
    assert Healthcheck.from_docker(check.to_docker()) == check


def test_go_durations_as_docker_prints_them() -> None:
    assert [go_duration(n) for n in (30 * S, 90 * S, 3700 * S, 200_000_000)] == \
        ["30s", "1m30s", "1h1m40s", "200ms"]


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
