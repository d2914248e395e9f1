"""docker's --health-* flags and ps's health column (issue 15)."""

from __future__ import annotations

import argparse
import time

import pytest

from app.cli.healthflags import add_health_flags, health_flags
from app.cli.options import UsageError
from engine.containers.health import Healthcheck
from tests.fixtures.cli import skiff


def _parse(*argv: str) -> Healthcheck | None:
    parser = argparse.ArgumentParser()
    add_health_flags(parser)
    return health_flags(parser.parse_args(list(argv)))


def test_flags_make_docker_s_health_config() -> None:
    assert _parse() is None
    assert _parse("--no-healthcheck") == Healthcheck(["NONE"])
    assert _parse("--health-cmd", "curl -f x", "--health-interval", "1m30s",
                  "--health-retries", "4", "--health-start-period", "500ms") == Healthcheck(
        ["CMD-SHELL", "curl -f x"], interval=90_000_000_000, start_period=500_000_000,
        retries=4)
    assert _parse("--health-timeout", "2s") == Healthcheck([], timeout=2_000_000_000)


@pytest.mark.parametrize(("argv", "message"), [
    (("--no-healthcheck", "--health-cmd", "x"), "--no-healthcheck conflicts with --health-*"),
    (("--health-interval", "soon"), 'time: invalid duration "soon"'),
    (("--health-retries", "-1"), "--health-retries cannot be negative"),
    (("--health-timeout", "1ns"), "cannot be less than 1ms"),
])
def test_bad_flags_say_what_is_wrong(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _parse(*argv)


@pytest.mark.root
def test_ps_shows_health_and_inspect_its_state(busybox_image: str) -> None:
    started = skiff("run", "-d", "--name", "cli-health", "--health-cmd", "echo fine",
                    "--health-interval", "100ms", busybox_image, "sleep", "600")
    assert started.returncode == 0, started.stderr
    try:
        deadline = time.monotonic() + 60
        while True:
            shown = skiff("ps", "--filter", "name=cli-health", "--format", "{{.Status}}")
            if "(healthy)" in shown.stdout:
                break
            assert time.monotonic() < deadline, shown.stdout + shown.stderr
            time.sleep(0.1)
        filtered = skiff("ps", "-q", "--filter", "health=healthy", "--filter",
                         "name=cli-health")
        assert filtered.stdout.strip() and skiff(
            "ps", "-q", "--filter", "health=unhealthy", "--filter", "name=cli-health"
        ).stdout == ""
        events = skiff("events", "--since", "0", "--until", str(int(time.time()) + 1),
                       "--filter", "event=health_status", "--format", "{{.Action}}")
        assert "health_status: healthy" in events.stdout.splitlines(), events.stderr
        health = skiff("inspect", "--format", "{{.State.Health.Status}} "
                       "{{(index .State.Health.Log 0).Output}}", "cli-health")
        assert health.stdout == "healthy fine\n\n", health.stderr
    finally:
        skiff("rm", "-f", "cli-health")
