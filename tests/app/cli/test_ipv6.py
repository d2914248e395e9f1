"""IPv6 networks through ``skiff`` itself: network create --ipv6 (a subnet of the host's
pool, or the one asked for), run --ip6, network connect --ip6, what inspect and ls show,
and the refusals in docker's words."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.app.cli.e2ehelpers import Skiff  # the skiff fixture is in conftest.py

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not Path("/proc/sys/net/ipv6").exists(), reason="needs IPv6")]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ipv6_networks_through_the_cli(skiff: Skiff) -> None:
    _ok(skiff("network", "create", "--ipv6", "cli-v6-auto"))
    _ok(skiff("network", "create", "--ipv6", "--subnet", "fd5a:1:2:81::/64", "--subnet",
              "10.231.81.0/24", "--ip-range", "fd5a:1:2:81::100/120", "cli-v6"))
    try:
        auto = json.loads(_ok(skiff("network", "inspect", "cli-v6-auto")))[0]
        assert auto["EnableIPv6"] is True
        [_, auto6] = auto["IPAM"]["Config"]
        assert auto6["Subnet"].startswith("fd") and auto6["Subnet"].endswith("::/64")
        assert auto6["Gateway"] == auto6["Subnet"].replace("::/64", "::1")
        listed = _ok(skiff("network", "ls", "--format", "{{.Name}} {{.IPv6}}"))
        assert "cli-v6 true" in listed.splitlines() and "bridge false" in listed.splitlines()

        shown = _ok(skiff("run", "--rm", "--network", "cli-v6", "busybox", "ip", "-6", "-o",
                          "addr", "show", "scope", "global"))
        assert "inet6 fd5a:1:2:81::100/64" in shown  # the range's first
        _ok(skiff("run", "-d", "--name", "cli-v6-a", "--network", "cli-v6", "--ip6",
                  "fd5a:1:2:81::7", "busybox", "sleep", "60"))
        _ok(skiff("create", "--name", "cli-v6-b", "busybox", "sleep", "60"))
        _ok(skiff("network", "connect", "--ip6", "fd5a:1:2:81::8", "cli-v6", "cli-v6-b"))
        _ok(skiff("start", "cli-v6-b"))
        found = json.loads(_ok(skiff("inspect", "cli-v6-a", "cli-v6-b")))
        a, b = (c["NetworkSettings"]["Networks"]["cli-v6"] for c in found)
        assert (a["GlobalIPv6Address"], a["IPAMConfig"]) == (
            "fd5a:1:2:81::7", {"IPv6Address": "fd5a:1:2:81::7"})
        assert (b["GlobalIPv6Address"], b["IPv6Gateway"]) == ("fd5a:1:2:81::8", "fd5a:1:2:81::1")
        pinged = skiff("exec", "cli-v6-b", "ping", "-c", "1", "-W", "5", "fd5a:1:2:81::7")
        assert pinged.returncode == 0, pinged.stdout + pinged.stderr

        two = skiff("network", "create", "--ipv6", "--subnet", "fd5a:1:2:82::/64", "--subnet",
                    "fd5a:1:2:83::/64", "cli-v6-no")
        assert (two.returncode, two.stderr) == (
            1, "Error response from daemon: a Skiff network has one IPv6 subnet: "
               "fd5a:1:2:82::/64 and fd5a:1:2:83::/64 were given\n")
        wrong = skiff("run", "--rm", "--network", "cli-v6", "--ip6", "10.0.0.1", "busybox",
                      "true")
        assert wrong.returncode == 125 and "invalid IPv6 address: 10.0.0.1" in wrong.stderr
        default = skiff("run", "--rm", "--ip6", "fd5a:1:2:81::9", "busybox", "true")
        assert default.returncode == 125
        assert "supported on user defined networks only" in default.stderr
    finally:
        skiff("rm", "-f", "cli-v6-a", "cli-v6-b")
        skiff("network", "rm", "cli-v6", "cli-v6-auto")
