"""Healthcheck config: Docker's merge with the image's, the probe, the recorded state."""

from __future__ import annotations

import pytest

from engine.containers.health import Healthcheck, merge_healthcheck, probe_request
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
