"""``skiff network create --aux-address``: reserved addresses, as docker's flag."""

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
