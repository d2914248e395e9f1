"""Where ``skiff serve`` agrees to listen: Unix sockets, loopback TCP only."""

from __future__ import annotations

import pytest

from app.api.server import Address, ListenError, parse_host


def test_unix_and_loopback_tcp_hosts_are_parsed() -> None:
    assert parse_host("unix:///run/x/docker.sock") == Address("unix", "/run/x/docker.sock")
    assert parse_host("tcp://127.0.0.1:2375") == Address("tcp", host="127.0.0.1", port=2375)
    assert parse_host("tcp://[::1]:2375") == Address("tcp", host="::1", port=2375)
    assert str(parse_host("tcp://localhost:2375")) == "tcp://localhost:2375"


@pytest.mark.parametrize("host", ["tcp://0.0.0.0:2375", "tcp://192.168.1.5:2375",
                                  "tcp://example.com:2375"])
def test_non_loopback_tcp_is_refused_without_tls(host: str) -> None:
    with pytest.raises(ListenError, match="without TLS"):
        parse_host(host)


@pytest.mark.parametrize("host", ["unix://relative.sock", "tcp://127.0.0.1", "ssh://x",
                                  "tcp://127.0.0.1:99999"])
def test_malformed_hosts_are_refused(host: str) -> None:
    with pytest.raises(ListenError, match="invalid --host"):
        parse_host(host)
