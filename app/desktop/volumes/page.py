"""The Volumes page: every volume, its size, the containers that mount it.

Create, remove (one in use only when forced, naming the containers), prune
with a preview, and browse a volume's files (copying in and out), mounted or not;
each action records the ``skiff volume`` command that does the same (``command``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from app.desktop.bridge import Bridge
from app.desktop.utils.units import age
from app.desktop.volumes import verbs
from app.desktop.volumes.browse import VolumeFiles
from app.desktop.volumes.data import VolumeEntry
from app.desktop.widgets.confirm import ask
from app.desktop.widgets.prunedialog import Preview, PruneDialog
from app.desktop.widgets.rowtable import Column
from app.desktop.widgets.tablepage import TablePage
from engine import Event, human_size

__all__ = ["VolumesPage"]

COLUMNS = (
    Column("Name", lambda e: e.name, mono=True, tooltip=lambda e: e.volume.mountpoint),
    Column("Size", lambda e: human_size(e.size), sort=lambda e: e.size, right=True),
    Column("Containers", lambda e: ", ".join(e.containers) or "none",
           sort=lambda e: len(e.containers)),
    Column("Created", lambda e: age(e.volume.created), sort=lambda e: e.volume.created),
    Column("Kind", lambda e: "anonymous" if e.volume.anonymous else "named"),
)
BLURB = ("A volume keeps data apart from any container's writable layer: it stays when "
         "the container is removed, and several containers can share it.")


def _skiff(*words: str) -> str:
    return shlex.join(["skiff", *words])


class VolumesPage(TablePage):
    command = Signal(str)
    changed = Signal()

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__("Volumes", BLURB, COLUMNS, parent)
        self.bridge = bridge
        self.a_create = self.add_action("Create…", self.ask_create, enabled=lambda _r: True,
                                        shortcut="Ctrl+Shift+N")
        self.a_remove = self.add_action("Remove…", self.ask_remove,
                                        shortcut=QKeySequence.StandardKey.Delete)
        self.a_prune = self.add_action("Prune…", self.ask_prune, enabled=lambda _r: True)
        self.a_browse = self.add_action(
            "Browse Files…", self.browse_selected, opens=True,
            enabled=lambda rows: len(rows) == 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh)
        bridge.event_received.connect(self._on_bridge_event_received)
        bridge.containers_listed.connect(self.refresh_soon)
        self.dialog: Any = None
        self.files: VolumeFiles | None = None

    def key(self, row: Any) -> Any:
        return row.name

    def refresh_soon(self, *_args: Any) -> None:
        if self.isVisible():
            self._timer.start()

    def _on_bridge_event_received(self, event: Event) -> None:
        if event.type == "volume" or (event.type == "container" and
                                      event.action in ("create", "destroy")):
            self.refresh_soon()

    def refresh(self) -> None:
        verbs.listing(self.bridge, self._on_listing)

    def _on_listing(self, entries: list[VolumeEntry]) -> None:
        self.set_rows(entries)
        self.changed.emit()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()

    # -- actions ----------------------------------------------------------------------

    def browse_selected(self) -> None:
        """The volume's files, whether a container mounts it or not."""
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        if self.files is not None:
            self.files.close()
        self.files = VolumeFiles(self.bridge, rows[0].name, self)
        self.files.files.command.connect(self.command)
        self.files.files.message.connect(self.message)
        self.files.show()

    def ask_create(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Create volume")
        dialog.setLabelText("Name (empty: an anonymous volume with a generated name):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.textValueSelected.connect(lambda text: self.create_volume(text.strip()))
        self.dialog = dialog
        dialog.open()

    def create_volume(self, name: str) -> None:
        self.command.emit(_skiff("volume", "create", *([name] if name else [])))
        verbs.create(self.bridge, name, lambda volume: self._done(
            f"Created the volume {volume.name}."))

    def ask_remove(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        used = [e for e in rows if e.containers]
        if used:
            users = "; ".join(f"{e.name} by {', '.join(e.containers)}" for e in used)
            self.dialog = ask(self, "Remove volumes in use?",
                              f"{len(used)} of these volumes are in use: {users}.",
                              "Remove anyway", lambda: self.remove(rows, force=True),
                              informative="Their data is lost; the containers lose it too.")
        else:
            self.dialog = ask(self, "Remove volumes?",
                              f"Remove {', '.join(e.name for e in rows)}?", "Remove",
                              lambda: self.remove(rows, force=False),
                              informative="The data in them is lost.")

    def remove(self, rows: list[VolumeEntry], force: bool) -> None:
        names = [e.name for e in rows]
        self.command.emit(_skiff("volume", "rm", *(["-f"] if force else []), *names))
        verbs.remove(self.bridge, names, force,
                     lambda _none: self._done(f"Removed {', '.join(names)}."))

    def preview(self, _choice: str, answer: Callable[[Preview], None],
                failed: Callable[[str], None]) -> None:
        verbs.prune_preview(self.bridge, False,
                            lambda pruned: answer((pruned.deleted, pruned.reclaimed)), failed)

    def ask_prune(self) -> None:
        self.dialog = PruneDialog(
            "Prune volumes", (("all", "Every volume no container uses"),),
            self.preview, self.prune, self)
        self.dialog.open()

    def prune(self, _choice: str) -> None:
        self.command.emit(_skiff("volume", "prune", "-f"))
        verbs.prune(self.bridge, False, lambda pruned: self._done(
            f"Pruned {len(pruned.deleted)}: {human_size(pruned.reclaimed)} returned."))

    def _done(self, message: str) -> None:
        self.message.emit(message)
        self.refresh()
