"""Platform names and index entry selection (pure)."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.registry.platforms import Platform, best_match, host


@pytest.mark.parametrize(("machine", "expected"), [
    ("x86_64", "linux/amd64"),
    ("aarch64", "linux/arm64/v8"),
    ("armv7l", "linux/arm/v7"),
    ("armv6l", "linux/arm/v6"),
    ("i686", "linux/386"),
    ("ppc64le", "linux/ppc64le"),
    ("s390x", "linux/s390x"),
    ("riscv64", "linux/riscv64"),
])
def test_host_platform_from_uname(machine: str, expected: str) -> None:
    assert str(host(machine)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("linux/amd64", "linux/amd64"),
    ("linux/x86_64", "linux/amd64"),
    ("linux/arm64", "linux/arm64/v8"),
    ("linux/aarch64", "linux/arm64/v8"),
    ("linux/arm/v7", "linux/arm/v7"),
    ("linux/arm/7", "linux/arm/v7"),
    ("Linux/AMD64", "linux/amd64"),
])
def test_parse_platform(text: str, expected: str) -> None:
    assert str(Platform.parse(text)) == expected


@pytest.mark.parametrize("text", ["", "amd64", "linux/", "linux/amd64/v1/x", "/amd64"])
def test_bad_platform_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidArgument, match="expected os/arch"):
        Platform.parse(text)


def _offered(*texts: str) -> list[Platform]:
    return [Platform.parse(t) for t in texts]


def test_best_match_picks_the_exact_platform() -> None:
    offered = _offered("linux/arm/v6", "linux/amd64", "linux/arm64", "linux/arm/v7")
    assert best_match(Platform.parse("linux/amd64"), offered) == 1
    assert best_match(Platform.parse("linux/arm64"), offered) == 2
    assert best_match(Platform.parse("linux/arm/v7"), offered) == 3
    assert best_match(Platform.parse("linux/arm/v6"), offered) == 0


def test_arm_v7_falls_back_to_older_variants_but_not_newer() -> None:
    assert best_match(Platform.parse("linux/arm/v7"), _offered("linux/arm/v5")) == 0
    assert best_match(Platform.parse("linux/arm/v6"), _offered("linux/arm/v7")) is None


def test_arm64_entry_without_variant_matches() -> None:
    entry = Platform.from_descriptor({"os": "linux", "architecture": "arm64"})
    assert best_match(Platform.parse("linux/arm64/v8"), [entry]) == 0


def test_no_match_for_other_os_or_arch() -> None:
    offered = _offered("windows/amd64", "linux/arm64")
    assert best_match(Platform.parse("linux/amd64"), offered) is None
    unknown = Platform.from_descriptor({"os": "unknown", "architecture": "unknown"})
    assert best_match(Platform.parse("linux/amd64"), [unknown]) is None
