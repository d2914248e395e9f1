"""A renamed container is found by its new name on its networks (issue 12, item 1)."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.cli import skiff

pytestmark = pytest.mark.root


def test_peers_resolve_the_new_name_and_inspect_shows_it(busybox_image: str) -> None:
    assert skiff("network", "create", "renamenet").returncode == 0
    made: list[str] = []
    try:
        for name in ("rn-server", "rn-client"):
            out = skiff("run", "-d", "--network", "renamenet", "--network-alias", f"{name}-a",
                        "--name", name, busybox_image, "sleep", "600")
            assert out.returncode == 0, out.stderr
            made.append(out.stdout.strip())
        assert skiff("rename", "rn-server", "rn-renamed").returncode == 0
        hosts = skiff("exec", "rn-client", "cat", "/etc/hosts").stdout
        assert "rn-renamed" in hosts and "rn-server-a" in hosts, hosts
        assert "rn-server " not in hosts + " " and "rn-server\t" not in hosts, hosts
        ping = skiff("exec", "rn-client", "ping", "-c", "1", "-W", "2", "rn-renamed")
        assert ping.returncode == 0, ping.stdout + ping.stderr
        network = json.loads(skiff("network", "inspect", "renamenet").stdout)[0]
        names = {c["Name"] for c in network["Containers"].values()}
        assert names == {"rn-renamed", "rn-client"}
        # Stopped and started again, it comes back under the new name.
        assert skiff("restart", "-t", "0", "rn-renamed").returncode == 0
        hosts = skiff("exec", "rn-client", "cat", "/etc/hosts").stdout
        assert "rn-renamed" in hosts and "rn-server\t" not in hosts, hosts
    finally:
        skiff("rm", "-f", *made)
        skiff("network", "rm", "renamenet")
