"""``skiff network create --aux-address`` and ``network connect --link/--link-local-ip``,
as docker's flags."""

from __future__ import annotations

import json

import pytest

from tests.app.cli.e2ehelpers import Skiff  # the skiff fixture is in conftest.py

pytestmark = pytest.mark.root


def test_aux_addresses_through_the_cli(skiff: Skiff) -> None:
    made = skiff("network", "create", "--subnet", "10.231.97.0/29",
                 "--aux-address", "a=10.231.97.2", "--aux-address", "b=10.231.97.3",
                 "cli-aux")
    assert made.returncode == 0, made.stderr
    try:
        found = json.loads(skiff("network", "inspect", "cli-aux").stdout)[0]
        assert found["IPAM"]["Config"] == [{"Subnet": "10.231.97.0/29",
                                             "Gateway": "10.231.97.1", "AuxiliaryAddresses": {
                                                 "a": "10.231.97.2", "b": "10.231.97.3"}}]
        shown = skiff("run", "--rm", "--network", "cli-aux", "busybox", "ip", "-4", "-o",
                      "addr", "show", "eth0")
        assert shown.returncode == 0, shown.stderr
        assert "10.231.97.4/29" in shown.stdout
    finally:
        skiff("network", "rm", "cli-aux")
    outside = skiff("network", "create", "--subnet", "10.231.97.0/29",
                    "--aux-address", "a=10.231.98.2", "cli-aux")
    assert outside.returncode != 0
    assert "no matching subnet for aux-address 10.231.98.2" in outside.stderr


def test_connect_with_links_and_link_local_ips_through_the_cli(skiff: Skiff) -> None:
    made = skiff("network", "create", "--subnet", "10.231.98.0/24", "cli-lk")
    assert made.returncode == 0, made.stderr
    try:
        for args in (("--name", "cli-lk-db", "--network", "cli-lk"), ("--name", "cli-lk-app")):
            started = skiff("run", "-d", *args, "busybox", "sleep", "60")
            assert started.returncode == 0, started.stderr
        done = skiff("network", "connect", "--link", "cli-lk-db:db", "--link-local-ip",
                     "169.254.9.9", "cli-lk", "cli-lk-app")
        assert done.returncode == 0, done.stderr
        assert "169.254.9.9/32" in skiff("exec", "cli-lk-app", "ip", "-o", "addr").stdout
        assert skiff("restart", "-t", "1", "cli-lk-app").returncode == 0
        found = json.loads(skiff("inspect", "cli-lk-app").stdout)[0]
        settings = found["NetworkSettings"]["Networks"]["cli-lk"]
        assert (settings["Links"], settings["IPAMConfig"]["LinkLocalIPs"]) == (
            ["cli-lk-db:db"], ["169.254.9.9"])
        pinged = skiff("exec", "cli-lk-app", "ping", "-c", "1", "-W", "5", "db")
        assert pinged.returncode == 0, pinged.stdout + pinged.stderr
    finally:
        skiff("rm", "-f", "cli-lk-app", "cli-lk-db")
        skiff("network", "rm", "cli-lk")
