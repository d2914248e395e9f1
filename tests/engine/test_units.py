"""Docker's units (go-units): RAMInBytes for what people type, HumanSize/BytesSize for output."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.units import (
    bytes_size,
    format_cpus,
    format_ram,
    human_duration,
    human_size,
    parse_cpus,
    parse_ram,
)


@pytest.mark.parametrize(("text", "value"), [
    ("1024", 1024), ("100b", 100), ("100B", 100), ("4k", 4096), ("4K", 4096),
    ("512m", 512 << 20), ("512M", 512 << 20), ("1g", 1 << 30), ("1.5g", 3 << 29),
    ("2gb", 2 << 30), ("1GiB", 1 << 30), ("1t", 1 << 40), ("1p", 1 << 50),
    ("64 m", 64 << 20), ("512 ", 512), ("1e3", 1000), ("0", 0), ("1.9", 1),
])
def test_ram_in_bytes(text: str, value: int) -> None:
    assert parse_ram(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("", "invalid size: ''"), ("lots", "invalid size: 'lots'"), ("-1m", "invalid size: '-1m'"),
    ("m", "invalid size: 'm'"), ("1.2.3g", "invalid size: '1.2.3g'"),
    (" 5m", "invalid size: ' 5m'"), ("1_0m", "invalid size: '1_0m'"),
    ("1x", "invalid suffix: 'x'"), ("1 gig", "invalid suffix: 'gig'"),
    ("1kbb", "invalid suffix: 'kbb'"), ("1bk", "invalid suffix: 'bk'"),
    ("1mx", "invalid suffix: 'mx'"),
])
def test_bad_sizes_in_go_units_words(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_ram(text)
    assert str(caught.value) == f"{message} (use a number with an optional unit b, k, m or g)"


@pytest.mark.parametrize(("value", "text"), [
    (512 << 20, "512m"), (1 << 30, "1g"), (3 << 29, "1536m"), (4096, "4k"), (1000, "1000"),
    (0, "0"), (2 << 40, "2t"),
])
def test_format_ram_reads_back(value: int, text: str) -> None:
    assert format_ram(value) == text
    assert parse_ram(text) == value


@pytest.mark.parametrize(("size", "text"), [
    (0, "0B"), (999, "999B"), (1000, "1kB"), (4_261_234, "4.26MB"), (1_500_000, "1.5MB"),
    (123_456_789, "123MB"), (2_000_000_000, "2GB"), (999_999, "1e+03kB"),
])
def test_human_size_is_docker_decimal(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(("size", "text"), [
    (0, "0B"), (1024, "1KiB"), (1536 * 1024, "1.5MiB"), (2 * 1024**3 - 60 * 1024**2,
                                                          "1.941GiB"),
])
def test_bytes_size_is_docker_binary(size: int, text: str) -> None:
    assert bytes_size(size) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0.4, "Less than a second"), (1, "1 second"), (3, "3 seconds"), (59, "59 seconds"),
    (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"),
    (59 * 60, "59 minutes"), (3600, "About an hour"), (2 * 3600, "2 hours"),
    (47 * 3600, "47 hours"), (48 * 3600, "2 days"), (13 * 86400, "13 days"),
    (14 * 86400, "2 weeks"), (60 * 86400, "2 months"), (800 * 86400, "2 years"),
])
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text



@pytest.mark.parametrize(("text", "nano"), [
    ("1.5", 1_500_000_000), ("0.25", 250_000_000), ("2", 2_000_000_000), ("0", 0),
    ("0.000000001", 1), ("3/2", 1_500_000_000), ("1e1", 10_000_000_000),
])
def test_cpus_as_docker_reads_them(text: str, nano: int) -> None:
    assert parse_cpus(text) == nano
    assert parse_cpus(format_cpus(nano)) == nano


@pytest.mark.parametrize(("text", "message"), [
    ("two", "failed to parse two as a rational number"),
    ("inf", "failed to parse inf as a rational number"), ("", "failed to parse"),
    ("1/3", "value is too precise"), ("0.0000000001", "value is too precise"),
    ("-1", "invalid number of CPUs -1: it must be positive"),
])
def test_bad_cpus(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_cpus(text)
