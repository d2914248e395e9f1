"""The Images page: every local image, its sizes and users, and what to do with it.

Remove (an image in use only when forced, naming the containers), tag, push, save
to a file, prune with a preview, and open one to see its layers and config. Each
action records the ``skiff`` command that does the same (``command``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QSplitter, QWidget

from app.desktop.bridge import Bridge
from app.desktop.images import verbs
from app.desktop.images.detail import ImageDetail, layer_infos
from app.desktop.images.overview import ImageEntry
from app.desktop.utils.units import age
from app.desktop.widgets.confirm import ask
from app.desktop.widgets.prunedialog import Preview, PruneDialog
from app.desktop.widgets.rowtable import Column
from app.desktop.widgets.tablepage import TablePage
from engine import human_size

__all__ = ["ImagesPage"]

COLUMNS = (
    Column("Tags", lambda e: ", ".join(e.tags) or "<none>"),
    Column("ID", lambda e: e.image.short_id, mono=True),
    Column("Size", lambda e: human_size(e.size), sort=lambda e: e.size, right=True),
    Column("Shared", lambda e: human_size(e.shared), sort=lambda e: e.shared, right=True),
    Column("Unique", lambda e: human_size(e.unique), sort=lambda e: e.unique, right=True),
    Column("Created", lambda e: age(e.image.created), sort=lambda e: e.image.created),
    Column("Containers", lambda e: ", ".join(e.containers) or "none",
           sort=lambda e: len(e.containers)),
)
BLURB = ("Images are the read-only templates containers start from. Layers two images "
         "share are stored once (Shared); Unique is what removing the image returns.")


def _skiff(*words: str) -> str:
    return shlex.join(["skiff", *words])


class ImagesPage(TablePage):
    command = Signal(str)
    changed = Signal()  # the rows were refreshed

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__("Images", BLURB, COLUMNS, parent)
        self.bridge = bridge
        self.layer_sizes: dict[str, int] = {}
        self.detail = ImageDetail(self)
        self.detail.hide()
        self.split = QSplitter(self)
        self.body.removeWidget(self.table)
        self.split.addWidget(self.table)
        self.split.addWidget(self.detail)
        self.body.addWidget(self.split, 1)
        self.split.setSizes([520, 480])
        self.a_open = self.add_action("Open", self.open_selected, opens=True,
                                      enabled=lambda rows: len(rows) == 1)
        self.a_remove = self.add_action("Remove…", self.ask_remove,
                                        shortcut=QKeySequence.StandardKey.Delete)
        self.a_tag = self.add_action("Tag…", self.ask_tag, enabled=lambda rows: len(rows) == 1)
        self.a_push = self.add_action("Push", self.push_selected,
                                      enabled=lambda rows: bool(rows) and
                                      all(r.tags for r in rows))
        self.a_save = self.add_action("Save to File…", self.ask_save)
        self.a_prune = self.add_action("Prune…", self.ask_prune, enabled=lambda _rows: True)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(150)
        self._refresh_timer.timeout.connect(self.refresh)
        bridge.images_listed.connect(self.refresh_soon)
        bridge.containers_listed.connect(self.refresh_soon)
        bridge.container_removed.connect(self.refresh_soon)
        self.dialog: Any = None  # the open dialog, for tests

    def key(self, row: Any) -> Any:
        return row.id

    # -- listing ----------------------------------------------------------------------

    def refresh_soon(self, *_args: Any) -> None:
        if self.isVisible():
            self._refresh_timer.start()

    def refresh(self) -> None:
        verbs.overview(self.bridge, self._on_overview)

    def _on_overview(self, overview: verbs.Overview) -> None:
        self.layer_sizes = overview.layer_sizes
        self.set_rows(overview.entries)
        self.changed.emit()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.refresh()

    # -- actions ----------------------------------------------------------------------

    def open_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        entry: ImageEntry = rows[0]
        self.command.emit(_skiff("image", "history", entry.name))

        def show(details: verbs.Details) -> None:
            infos = layer_infos(entry, self.rows(), self.layer_sizes)
            self.detail.show_image(entry, infos, details.inspect)
            self.detail.show()

        verbs.details(self.bridge, entry.id, show)

    def ask_remove(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        names = [e.name for e in rows]
        used = [e for e in rows if e.containers]
        if used:
            users = "; ".join(f"{e.name} by {', '.join(e.containers)}" for e in used)
            self.dialog = ask(self, "Remove images in use?",
                              f"{len(used)} of these images are in use: {users}.",
                              "Remove anyway", lambda: self.remove(rows, force=True),
                              informative="Forcing removes their tags; the containers keep "
                              "their image until they are removed.")
        else:
            self.dialog = ask(self, "Remove images?", f"Remove {', '.join(names)}?",
                              "Remove", lambda: self.remove(rows, force=False))

    def remove(self, rows: list[ImageEntry], force: bool) -> None:
        """Each image whole (by ID: every tag goes, as the row is the image)."""
        refs = [e.image.short_id for e in rows]
        self.command.emit(_skiff("image", "rm", *(["-f"] if force else []), *refs))
        verbs.remove_images(self.bridge, refs, force,
                            lambda lines: self.message.emit(
                                f"{len(lines)} removed or untagged: "
                                + ", ".join(f"{kind} {name}" for kind, name in lines)))

    def ask_tag(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Tag image")
        dialog.setLabelText(f"New name for {rows[0].name} (repository[:tag]):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.textValueSelected.connect(lambda text: self.tag(rows[0], text.strip()))
        self.dialog = dialog
        dialog.open()

    def tag(self, entry: ImageEntry, target: str) -> None:
        if not target:
            return
        self.command.emit(_skiff("image", "tag", entry.name, target))

        def tagged(_none: None) -> None:
            self.message.emit(f"Tagged {entry.name} as {target}.")
            self.bridge.refresh_images()

        verbs.tag(self.bridge, entry.id, target, tagged)

    def push_selected(self) -> None:
        for entry in self.selected_rows():
            ref = entry.tags[0]
            self.command.emit(_skiff("image", "push", ref))
            self.message.emit(f"Pushing {ref}…")
            verbs.push(self.bridge, ref, self._pushed(ref))

    def _pushed(self, ref: str) -> Callable[[str], None]:
        return lambda digest: self.message.emit(f"Pushed {ref} ({digest}).")

    def ask_save(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        dialog = QFileDialog(self, "Save images to a file")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("Image archives (*.tar)")
        dialog.selectFile(rows[0].name.replace("/", "_").replace(":", "_") + ".tar")
        dialog.fileSelected.connect(lambda path: self.save(rows, Path(path)))
        self.dialog = dialog
        dialog.open()

    def save(self, rows: list[ImageEntry], path: Path) -> None:
        refs = [e.name for e in rows]
        self.command.emit(_skiff("image", "save", "-o", str(path), *refs))
        verbs.save(self.bridge, refs, path,
                   lambda _none: self.message.emit(f"Saved {', '.join(refs)} to {path}."))

    def preview(self, choice: str, answer: Callable[[Preview], None],
                failed: Callable[[str], None]) -> None:
        """The engine's dry run of the prune: each image that would go, by its name."""
        names = {e.id: e.name for e in self.rows()}

        def counted(pruned: Any) -> None:
            gone = [line.split(": ", 1)[1] for line in pruned.deleted
                    if line.startswith("deleted: ")]
            answer(([names.get(i, i[7:19]) for i in gone], pruned.reclaimed))

        verbs.prune_preview(self.bridge, choice == "all", counted, failed)

    def ask_prune(self) -> None:
        self.dialog = PruneDialog(
            "Prune images",
            (("dangling", "Dangling images (no tag, no container)"),
             ("all", "Every image no container uses")),
            self.preview, self.prune, self)
        self.dialog.open()

    def prune(self, choice: str) -> None:
        everything = choice == "all"
        self.command.emit(_skiff("image", "prune", "-f", *(["-a"] if everything else [])))
        verbs.prune(self.bridge, everything, lambda pruned: self.message.emit(
            f"Pruned {len(pruned.deleted)}: {human_size(pruned.reclaimed)} returned."))
