"""``skiff run -p [::1]:PORT:80``: the monitor relays the port (no kernel rule can)."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.app.cli.e2ehelpers import Skiff  # the skiff fixture is in conftest.py

pytestmark = pytest.mark.root


def test_a_port_on_ipv6_loopback_through_the_cli(skiff: Skiff) -> None:
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
        port = int(probe.getsockname()[1])
    started = skiff("run", "-d", "--name", "cli-lo", "-p", f"[::1]:{port}:80", "busybox",
                    "sh", "-c", "echo hi > /tmp/index.html && httpd -f -p 80 -h /tmp")
    assert started.returncode == 0, started.stderr
    try:
        assert skiff("port", "cli-lo").stdout.strip() == f"80/tcp -> [::1]:{port}"
        for _ in range(50):  # httpd listens a moment after the start: retried, not timed
            try:
                with urllib.request.urlopen(f"http://[::1]:{port}/index.html",
                                            timeout=10) as answer:
                    assert answer.read() == b"hi\n"
                break
            except OSError:
                continue
        else:
            pytest.fail(f"nothing answered on [::1]:{port}")
    finally:
        skiff("rm", "-f", "cli-lo")
