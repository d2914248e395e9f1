"""The Networks page against the real engine and the ``skiff`` command line."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.mainwindow import MainWindow
from app.desktop.networks.createdialog import CreateNetworkDialog
from app.desktop.networks.data import NetworkEntry, check_subnet
from app.desktop.networks.page import NetworksPage
from tests.app.desktop.cli import skiff
from tests.app.desktop.conftest import previewed, screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish

SUBNET = f"10.213.{os.getpid() % 250}.0/24"
GATEWAY = SUBNET.replace(".0/24", ".1")


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)
    left = set(skiff("network", "ls", "--format", "{{.Name}}").split()) & {"np-back",
                                                                            "np-spare"}
    if left:
        skiff("network", "rm", *sorted(left))


def _entry(page: NetworksPage, name: str) -> NetworkEntry | None:
    return next((e for e in page.rows() if e.name == name), None)


def _members(page: NetworksPage, network: str) -> dict[str, Any]:
    entry = _entry(page, network)
    return {m.name: m for m in entry.members} if entry is not None else {}


async def _listed(page: NetworksPage, condition: Callable[[], Any], what: str) -> Any:
    page.refresh()
    return await wait_for(condition, page.changed, timeout=60, what=what)


def test_subnets_are_checked_before_the_engine_is_asked(qtbot: Any) -> None:
    assert check_subnet("", "") == ""
    assert check_subnet("10.1.2.0/24", "10.1.2.1") == ""
    assert "not a subnet" in check_subnet("10.1.2.3/24", "")
    assert "private" in check_subnet("8.8.8.0/24", "")
    assert "too small" in check_subnet("10.1.2.0/31", "")
    assert "not a usable address" in check_subnet("10.1.2.0/24", "10.1.3.1")
    assert "IPv4" in check_subnet("fd00::/64", "")
    made: list[tuple[str, str, str, bool]] = []
    dialog = CreateNetworkDialog(lambda *args: made.append(args))
    qtbot.addWidget(dialog)
    assert not dialog.create_button.isEnabled()  # no name yet
    dialog.name.setText("web")
    dialog.subnet.setText("10.9.0.0/33")
    assert not dialog.create_button.isEnabled() and "10.9.0.0/33" in dialog.problem.text()
    dialog.subnet.setText("10.9.0.0/24")
    assert dialog.create_button.isEnabled()
    dialog.ipv6.setChecked(True)
    dialog.create_button.click()
    assert made == [("web", "10.9.0.0/24", "", True)]


@pytest.mark.gui
@pytest.mark.root
def test_networks_page_lists_what_the_cli_lists_and_acts_as_it_does(
        window: MainWindow, run: Callable[..., Any], qtmodeltester: Any) -> None:
    page: NetworksPage = window.manage.networks
    commands: list[str] = []
    page.command.connect(commands.append)

    async def story() -> None:
        window.manage.show("networks")
        page.create_network("np-back", SUBNET, GATEWAY)
        await _listed(page, lambda: _entry(page, "np-back"), "the new network")
        assert commands[-1] == f"skiff network create --subnet {SUBNET} --gateway " \
                               f"{GATEWAY} np-back"
        entry = _entry(page, "np-back")
        assert entry is not None and (entry.subnet, entry.gateway) == (SUBNET, GATEWAY)
        listed = set(skiff("network", "ls", "--format", "{{.Name}}").split())
        assert {e.name for e in page.rows()} == listed
        qtmodeltester.check(page.model)

        await make("busybox:latest", "net-user", ["sleep", "300"], network="np-back",
                   network_aliases=["api"])
        await make("busybox:latest", "net-other", ["sleep", "300"])
        await _listed(page, lambda: "net-user" in _members(page, "np-back"),
                      "net-user on np-back")
        user = _members(page, "np-back")["net-user"]
        assert ipaddress.ip_interface(user.address) in ipaddress.ip_network(SUBNET) or \
            ipaddress.ip_interface(user.address).ip in ipaddress.ip_network(SUBNET)
        assert user.aliases == ["api"]
        inspected = json.loads(skiff("network", "inspect", "np-back"))[0]
        assert {c["Name"]: c["IPv4Address"] for c in inspected["Containers"].values()} == \
            {m.name: m.address for m in _entry(page, "np-back").members}

        # connect, then disconnect, as the CLI does
        page.connect_container(_entry(page, "np-back"), "net-other", ["cache"])
        await _listed(page, lambda: "net-other" in _members(page, "np-back"),
                      "net-other connected")
        assert commands[-1] == "skiff network connect --alias cache np-back net-other"
        assert _members(page, "np-back")["net-other"].aliases == ["cache"]
        inspected = json.loads(skiff("network", "inspect", "np-back"))[0]
        assert "net-other" in {c["Name"] for c in inspected["Containers"].values()}
        page.select_where(lambda e: e.name == "np-back")
        qtmodeltester.check(page.members)
        window.manage.show("networks")  # the sidebar selected a new container meanwhile
        screenshot(window, "networks")
        row = next(n for n, m in enumerate(page.members.rows()) if m.name == "net-other")
        page.member_view.selectRow(row)
        assert page.a_disconnect.isEnabled()
        page.a_disconnect.trigger()
        await _listed(page, lambda: "net-other" not in _members(page, "np-back"),
                      "net-other disconnected")
        assert commands[-1] == "skiff network disconnect np-back net-other"

        # prune: the preview is what goes
        page.create_network("np-spare")
        await _listed(page, lambda: _entry(page, "np-spare"), "np-spare")
        page.ask_prune()
        shown = await previewed(page.dialog)
        assert "np-spare" in shown and "np-back" not in shown
        page.dialog.prune_button.click()
        await _listed(page, lambda: not _entry(page, "np-spare"), "the prune done")
        left = set(skiff("network", "ls", "--format", "{{.Name}}").split())
        assert not left & set(shown) and "np-back" in left

    run(story(), timeout=300)
    publish("networks")
