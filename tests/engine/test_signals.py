"""Signals as docker reads them (moby sys/signal ParseSignal), for every client."""

from __future__ import annotations

import re

import pytest

from engine.errors import InvalidArgument
from engine.signals import parse_signal, signal_name


@pytest.mark.parametrize(("value", "number", "name"), [
    ("TERM", 15, "SIGTERM"), ("SIGTERM", 15, "SIGTERM"), ("sigterm", 15, "SIGTERM"),
    ("15", 15, "SIGTERM"), (9, 9, "SIGKILL"), (" hup ", 1, "SIGHUP"),
    ("RTMIN", 34, "SIGRTMIN"), ("SIGRTMIN+3", 37, "SIGRTMIN+3"), ("rtmax-1", 63, "SIGRTMAX-1"),
    ("64", 64, "SIGRTMAX"),
])
def test_signals(value: str | int, number: int, name: str) -> None:
    assert parse_signal(value) == number
    assert signal_name(value) == name
    assert parse_signal(name) == number  # the name reads back


@pytest.mark.parametrize("value", ["0", "65", "FOO", "", "SIG", "RTMIN+40", -1, "1.5"])
def test_bad_signals_in_docker_words(value: str | int) -> None:
    with pytest.raises(InvalidArgument, match=f"^invalid signal: {re.escape(str(value))}$"):
        parse_signal(value)
