"""Flag values with docker's syntax: memory, --restart, -p, -v, --mount, env files, times."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.options import (
    UsageError,
    parse_cpus,
    parse_env,
    parse_env_file,
    parse_labels,
    parse_memory,
    parse_mount,
    parse_publish,
    parse_restart,
    parse_signal,
    parse_time,
    parse_volume,
)
from engine.containers.config import MountSpec, PortBinding, RestartPolicy


@pytest.mark.parametrize(("text", "value"), [
    ("1024", 1024), ("100b", 100), ("4k", 4096), ("4K", 4096), ("512m", 512 << 20),
    ("512M", 512 << 20), ("1g", 1 << 30), ("1.5g", 3 << 29), ("2gb", 2 << 30),
    ("1GiB", 1 << 30), ("1t", 1 << 40), ("64 m", 64 << 20),
])
def test_memory_units(text: str, value: int) -> None:
    assert parse_memory(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-1m", "1x", "m", "1.2.3g", "1 gig"])
def test_memory_refused(text: str) -> None:
    with pytest.raises(UsageError, match=r"invalid (size|suffix)"):
        parse_memory(text)


def test_cpus() -> None:
    assert parse_cpus("1.5") == 1_500_000_000
    assert parse_cpus("0.25") == 250_000_000
    for bad in ("two", "-1", "inf", "nan"):
        with pytest.raises(UsageError, match="--cpus"):
            parse_cpus(bad)


@pytest.mark.parametrize(("text", "policy"), [
    ("no", RestartPolicy("no", 0)), ("always", RestartPolicy("always", 0)),
    ("unless-stopped", RestartPolicy("unless-stopped", 0)),
    ("on-failure", RestartPolicy("on-failure", 0)),
    ("on-failure:5", RestartPolicy("on-failure", 5)),
])
def test_restart(text: str, policy: RestartPolicy) -> None:
    assert parse_restart(text) == policy


@pytest.mark.parametrize("text", ["sometimes", "always:3", "on-failure:x", "on-failure:-1"])
def test_restart_refused(text: str) -> None:
    with pytest.raises(UsageError, match="restart policy"):
        parse_restart(text)


def test_port_and_mount_flags_are_the_engines_rules_as_usage_errors() -> None:
    # the forms themselves: tests/engine/containers/test_specs.py
    assert parse_publish("127.0.0.1:8080:80") == [PortBinding(80, "tcp", "127.0.0.1", 8080)]
    assert parse_volume("/anonymous") == MountSpec("volume", "/anonymous", "", False)
    assert parse_mount("type=tmpfs,target=/run") == MountSpec("tmpfs", "/run", "", False)
    for parse, bad in ((parse_publish, "8080:80/icmp"), (parse_volume, "rel/ative:/ctr"),
                       (parse_mount, "type=nfs,target=/c")):
        with pytest.raises(UsageError):
            parse(bad)


def test_env_values_and_passthrough() -> None:
    environ = {"HOME": "/root", "EMPTY": ""}
    assert parse_env(["A=1", "B=", "HOME", "EMPTY", "UNSET", "C=x=y"], environ) == [
        "A=1", "B=", "HOME=/root", "EMPTY=", "C=x=y"]
    with pytest.raises(UsageError):
        parse_env(["=value"], environ)


def test_env_file(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_text("# comment\n\nA=1\n  B=two words  \nQUOTED=\"kept\"\nHOME\nUNSET\n"
                    "EMPTY=\n")
    assert parse_env_file(str(path), {"HOME": "/root"}) == [
        "A=1", "B=two words  ", 'QUOTED="kept"', "HOME=/root", "EMPTY="]
    path.write_text("BAD KEY=1\n")
    with pytest.raises(UsageError, match="whitespaces"):
        parse_env_file(str(path), {})
    with pytest.raises(UsageError, match="open"):
        parse_env_file(str(tmp_path / "missing"), {})


def test_labels() -> None:
    assert parse_labels(["a=1", "b", "c=x=y"]) == {"a": "1", "b": "", "c": "x=y"}
    with pytest.raises(UsageError):
        parse_labels(["=x"])


def test_signals() -> None:
    assert parse_signal("TERM") == "SIGTERM"
    assert parse_signal("sigkill") == "SIGKILL"
    assert parse_signal("9") == "SIGKILL"
    assert parse_signal("SIGUSR1") == "SIGUSR1"
    for bad in ("NOPE", "999"):
        with pytest.raises(UsageError, match="signal"):
            parse_signal(bad)


def test_times_use_the_engine_rule_and_fail_as_usage_errors() -> None:
    now = 1_714_564_800.0  # 2024-05-01T12:00:00Z
    assert parse_time("10m", "--since", now) == int((now - 600) * 1e9)
    assert parse_time("2024-05-01T12:00:00Z", "--since", now) == 1_714_564_800 * 10**9
    with pytest.raises(UsageError, match='"--until" flag: failed to parse value as time or '
                                         'duration: "yesterday"'):
        parse_time("yesterday", "--until", now)
