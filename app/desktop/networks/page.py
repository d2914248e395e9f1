"""The Networks page: each network's driver, subnet and gateway, and the
containers on it with their addresses and aliases.

Create (the subnet checked first), remove, connect and disconnect containers,
prune with a preview; each action records the ``skiff network`` command that
does the same (``command``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QInputDialog, QLabel, QTableView, QWidget

from app.desktop.bridge import Bridge
from app.desktop.networks import verbs
from app.desktop.networks.createdialog import CreateNetworkDialog
from app.desktop.networks.data import NetworkEntry
from app.desktop.utils.units import age
from app.desktop.widgets.confirm import ask
from app.desktop.widgets.prunedialog import Preview, PruneDialog
from app.desktop.widgets.rowtable import Column, RowTable
from app.desktop.widgets.tablepage import TablePage
from engine import Event

__all__ = ["NetworksPage"]

COLUMNS = (
    Column("Name", lambda e: e.name),
    Column("Driver", lambda e: e.driver),
    Column("Subnet", lambda e: e.subnet, mono=True),
    Column("Gateway", lambda e: e.gateway, mono=True),
    Column("Containers", lambda e: ", ".join(m.name for m in e.members) or "none",
           sort=lambda e: len(e.members)),
    Column("Created", lambda e: age(e.created), sort=lambda e: e.created),
)
MEMBERS = (
    Column("Container", lambda m: m.name),
    Column("Address", lambda m: m.address, mono=True),
    Column("MAC", lambda m: m.mac, mono=True),
    Column("Aliases", lambda m: ", ".join(m.aliases)),
)
BLURB = ("Containers on the same network reach each other by name; a container on no "
         "shared network cannot reach them. Published ports are how the host gets in.")


def _skiff(*words: str) -> str:
    return shlex.join(["skiff", *words])


class NetworksPage(TablePage):
    command = Signal(str)
    changed = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__("Networks", BLURB, COLUMNS, parent)
        self.bridge = bridge
        self.members = RowTable(MEMBERS, self)
        self.member_view = QTableView(self)
        self.member_view.setAccessibleName("Containers on the network")
        self.member_view.setModel(self.members)
        self.member_view.verticalHeader().hide()
        self.member_view.horizontalHeader().setStretchLastSection(True)
        self.member_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.member_view.selectionModel().selectionChanged.connect(
            lambda *_: self._selection_changed())
        self.members_label = QLabel("Select a network to see its containers.", self)
        self.body.addWidget(self.members_label)
        self.body.addWidget(self.member_view)
        not_predefined = lambda rows: bool(rows) and not any(r.predefined for r in rows)  # noqa: E731
        self.a_create = self.add_action("Create…", self.ask_create, enabled=lambda _r: True,
                                        shortcut="Ctrl+Shift+N")
        self.a_remove = self.add_action("Remove…", self.ask_remove, enabled=not_predefined,
                                        shortcut=QKeySequence.StandardKey.Delete)
        self.a_connect = self.add_action(
            "Connect Container…", self.ask_connect,
            enabled=lambda rows: len(rows) == 1 and rows[0].name not in ("host", "none"))
        self.a_disconnect = self.add_action(
            "Disconnect", self.disconnect_selected,
            enabled=lambda rows: len(rows) == 1 and bool(self.selected_members()))
        self.a_prune = self.add_action("Prune…", self.ask_prune, enabled=lambda _r: True)
        self.selection_changed.connect(self._show_members)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh)
        bridge.event_received.connect(self._on_bridge_event_received)
        self.containers: list[str] = []
        bridge.containers_listed.connect(self._on_bridge_containers_listed)
        self.dialog: Any = None

    def key(self, row: Any) -> Any:
        return row.name

    def _on_bridge_containers_listed(self, containers: list[Any]) -> None:
        self.containers = sorted(c.name for c in containers)
        self.refresh_soon()

    def _on_bridge_event_received(self, event: Event) -> None:
        if event.type == "network" or (event.type == "container" and event.action in (
                "create", "destroy", "start", "die", "rename")):
            self.refresh_soon()

    def refresh_soon(self, *_args: Any) -> None:
        if self.isVisible():
            self._timer.start()

    def refresh(self) -> None:
        verbs.listing(self.bridge, self._on_listing)

    def _on_listing(self, entries: list[NetworkEntry]) -> None:
        self.set_rows(entries)
        self._show_members()
        self.changed.emit()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()

    def _show_members(self) -> None:
        rows = self.selected_rows()
        entry = rows[0] if len(rows) == 1 else None
        self.members.set_rows(entry.members if entry is not None else [])
        self.members_label.setText(
            f"Containers on {entry.name}:" if entry is not None
            else "Select a network to see its containers.")

    def selected_members(self) -> list[Any]:
        model = self.member_view.selectionModel()
        return [self.members.row(i.row()) for i in model.selectedRows()] if model else []

    # -- actions ----------------------------------------------------------------------

    def ask_create(self) -> None:
        self.dialog = CreateNetworkDialog(self.create_network, self)
        self.dialog.open()

    def create_network(self, name: str, subnet: str = "", gateway: str = "",
                       ipv6: bool = False) -> None:
        options = [*(["--subnet", subnet] if subnet else []),
                   *(["--gateway", gateway] if gateway else []), *(["--ipv6"] if ipv6 else [])]
        self.command.emit(_skiff("network", "create", *options, name))
        verbs.create(self.bridge, name, subnet, gateway, ipv6,
                     lambda _doc: self._done(f"Created the network {name}."))

    def ask_remove(self) -> None:
        rows = [r for r in self.selected_rows() if not r.predefined]
        if not rows:
            return
        users = [f"{r.name} ({', '.join(r.wanted_by or [m.name for m in r.members])})"
                 for r in rows if r.members or r.wanted_by]
        informative = (f"In use: {'; '.join(users)}. Remove or disconnect those containers "
                       "first.") if users else ""
        self.dialog = ask(self, "Remove networks?", f"Remove {', '.join(r.name for r in rows)}?",
                          "Remove", lambda: self.remove(rows), informative=informative)

    def remove(self, rows: list[NetworkEntry]) -> None:
        names = [r.name for r in rows]
        self.command.emit(_skiff("network", "rm", *names))
        verbs.remove(self.bridge, names, lambda _n: self._done(f"Removed {', '.join(names)}."))

    def ask_connect(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        on = {m.name for m in rows[0].members}
        choices = [name for name in self.containers if name not in on]
        if not choices:
            self.message.emit(f"Every container is on {rows[0].name} already.")
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle(f"Connect a container to {rows[0].name}")
        dialog.setLabelText("Container:")
        dialog.setComboBoxItems(choices)
        dialog.textValueSelected.connect(lambda name: self.ask_aliases(rows[0], name))
        self.dialog = dialog
        dialog.open()

    def ask_aliases(self, entry: NetworkEntry, container: str) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle(f"Connect {container} to {entry.name}")
        dialog.setLabelText(f"Other names {container} answers to on {entry.name} "
                            "(optional, separated by spaces):")
        dialog.textValueSelected.connect(
            lambda text: self.connect_container(entry, container, text.split()))
        self.dialog = dialog
        dialog.open()

    def connect_container(self, entry: NetworkEntry, container: str,
                          aliases: list[str] | None = None) -> None:
        extra = [word for alias in aliases or [] for word in ("--alias", alias)]
        self.command.emit(_skiff("network", "connect", *extra, entry.name, container))
        verbs.connect(self.bridge, entry.name, container, aliases or [],
                      lambda _n: self._done(f"Connected {container} to {entry.name}."))

    def disconnect_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        for member in self.selected_members():
            self.command.emit(_skiff("network", "disconnect", rows[0].name, member.name))
            verbs.disconnect(self.bridge, rows[0].name, member.name,
                             self._then(f"Disconnected {member.name} from {rows[0].name}."))

    def preview(self, _choice: str, answer: Callable[[Preview], None],
                failed: Callable[[str], None]) -> None:
        verbs.prune_preview(self.bridge, lambda pruned: answer((pruned.deleted, -1)), failed)

    def ask_prune(self) -> None:
        self.dialog = PruneDialog("Prune networks",
                                  (("all", "Every user-defined network no container is on"),),
                                  self.preview, self.prune, self)
        self.dialog.open()

    def prune(self, _choice: str) -> None:
        self.command.emit(_skiff("network", "prune", "-f"))
        verbs.prune(self.bridge, lambda pruned: self._done(
            f"Pruned {len(pruned.deleted)} networks."))

    def _then(self, message: str) -> Callable[[Any], None]:
        return lambda _result: self._done(message)

    def _done(self, message: str) -> None:
        self.message.emit(message)
        self.refresh()
