"""The "What is this?" tab: the selected container's real parts, explained.

Layers and the overlay, namespaces next to the host's, cgroup limits against
current use, the network and who it can reach, and the ``skiff`` command
line for the container and for every action taken in the window. The facts
come from the engine when the tab is shown (and again when the container
starts or stops); the words come from learn/data.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge, EngineLike
from app.desktop.learn import data as learndata
from app.desktop.learn.data import LearnFacts
from app.desktop.learn.picturepanel import PicturePanel
from app.desktop.utils.commandlog import CommandLog
from app.desktop.widgets.layerstack import LayerStack
from app.desktop.widgets.lazytab import LazyTab
from app.desktop.widgets.rowtable import Column, RowTable
from engine import Container, SkiffError, format_bytes

__all__ = ["LearnView"]

log = logging.getLogger(__name__)

OWN = QColor("#2e7d32")
SHARED = QColor("#e65100")


def _short_digest(digest: str) -> str:
    algorithm, _, hexa = digest.partition(":")
    return f"{algorithm}:{hexa[:12]}" if hexa else digest


def layer_columns() -> list[Column]:
    return [
        Column("Layer", lambda r: r.label),
        Column("Digest", lambda r: _short_digest(r.digest) if r.kind == "image" else r.digest,
               tooltip=lambda r: r.digest, mono=True),
        Column("Size", lambda r: format_bytes(r.size) if r.size >= 0 else "—",
               sort=lambda r: r.size, right=True),
        Column("Made by", lambda r: r.made_by, tooltip=lambda r: r.made_by),
    ]


def namespace_columns() -> list[Column]:
    return [
        Column("Kind", lambda r: r.kind, mono=True),
        Column("Isolates", lambda r: r.name, tooltip=lambda r: r.meaning),
        Column("Container's", lambda r: str(r.container_inode), right=True, mono=True),
        Column("Host's", lambda r: str(r.host_inode), right=True, mono=True),
        Column("", lambda r: "shared with the host" if r.shared else "its own",
               colour=lambda r: SHARED if r.shared else OWN),
        Column("What that means", lambda r: r.meaning, tooltip=lambda r: r.meaning),
    ]


def limit_columns() -> list[Column]:
    return [
        Column("Resource", lambda r: r.resource),
        Column("Limit", lambda r: r.limit),
        Column("Now", lambda r: r.now),
        Column("At the limit", lambda r: r.at_limit, tooltip=lambda r: r.at_limit),
    ]


def peer_columns() -> list[Column]:
    return [
        Column("Container", lambda p: p.name),
        Column("Address", lambda p: p.address, mono=True),
        Column("Network", lambda p: p.network),
        Column("Reach it by", lambda p: f"{p.name} or {p.address}" if p.by_name
               else p.address, mono=True),
    ]


class _Table(QTableView):
    """A table as tall as its rows: the page scrolls, not the table."""

    def __init__(self, model: RowTable, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setAccessibleName(name)
        self.verticalHeader().hide()
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(model.columnCount() - 1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        model.modelReset.connect(self.fit)
        model.dataChanged.connect(self.fit)
        self.fit()

    def fit(self) -> None:
        self.resizeRowsToContents()
        height = self.horizontalHeader().sizeHint().height() + 2 * self.frameWidth()
        for row in range(self.model().rowCount()):
            height += self.rowHeight(row)
        self.setFixedHeight(height + 2)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit()


def _label(text: str, parent: QWidget, name: str) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAccessibleName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class LearnView(LazyTab):
    message = Signal(str)
    loaded = Signal()  # new facts are shown

    def __init__(self, bridge: Bridge, commands: CommandLog,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("What is this?")
        self.bridge = bridge
        self.commands = commands
        self.facts: LearnFacts | None = None
        self._loading: Any = None

        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setAccessibleName("What is this? page")
        page = QWidget(self.scroller)
        self.page = page
        body = QVBoxLayout(page)
        body.setContentsMargins(12, 10, 12, 12)
        body.setSpacing(8)

        top = QHBoxLayout()
        self.intro = _label("", page, "What a container is")
        self.refresh_button = QPushButton("Refresh", page)
        self.refresh_button.setAccessibleName("Refresh the facts")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.intro, 1)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        body.addLayout(top)

        body.addWidget(self._heading("Its picture", page))
        self.picture = PicturePanel(bridge, gather, page)
        self.picture.drawing.part_clicked.connect(self.show_part)
        body.addWidget(self.picture)

        self.part_headings: dict[str, QLabel] = {}
        self.part_headings["layers"] = self._heading(
            "Its files: image layers and the overlay", page)
        body.addWidget(self.part_headings["layers"])
        body.addWidget(_label(learndata.LAYERS_TEXT, page, "About layers"))
        self.stack = LayerStack(page)
        body.addWidget(self.stack)
        self.layers = RowTable(layer_columns(), self)
        self.layers_view = _Table(self.layers, "Layers", page)
        body.addWidget(self.layers_view)

        self.part_headings["walls"] = self._heading("Its own view: namespaces", page)
        body.addWidget(self.part_headings["walls"])
        body.addWidget(_label(learndata.NAMESPACES_TEXT, page, "About namespaces"))
        self.namespaces_note = _label("", page, "Namespaces note")
        body.addWidget(self.namespaces_note)
        self.namespaces = RowTable(namespace_columns(), self)
        self.namespaces_view = _Table(self.namespaces, "Namespaces", page)
        body.addWidget(self.namespaces_view)

        self.part_headings["gauges"] = self._heading("Its share: cgroup limits", page)
        body.addWidget(self.part_headings["gauges"])
        body.addWidget(_label(learndata.LIMITS_TEXT, page, "About limits"))
        self.limits = RowTable(limit_columns(), self)
        self.limits_view = _Table(self.limits, "Limits", page)
        body.addWidget(self.limits_view)

        self.part_headings["network"] = self._heading("Its network", page)
        body.addWidget(self.part_headings["network"])
        body.addWidget(_label(learndata.NETWORK_TEXT, page, "About the network"))
        self.network_summary = _label("", page, "Network summary")
        self.ports = _label("", page, "Published ports")
        body.addWidget(self.network_summary)
        body.addWidget(self.ports)
        self.peers = RowTable(peer_columns(), self)
        self.peers_view = _Table(self.peers, "Containers it can reach", page)
        body.addWidget(self.peers_view)

        body.addWidget(self._heading("The same with the skiff command", page))
        body.addWidget(_label(learndata.COMMAND_TEXT, page, "About the command line"))
        command_row = QHBoxLayout()
        self.command = QLabel(page)
        self.command.setAccessibleName("Command line of the container")
        self.command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.command.setWordWrap(True)
        self.command.setTextFormat(Qt.TextFormat.PlainText)
        self.command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command.setFrameShape(QFrame.Shape.StyledPanel)
        self.command.setMargin(6)
        copy = QPushButton("Copy", page)
        copy.setAccessibleName("Copy the command line")
        copy.clicked.connect(self.copy_command)
        command_row.addWidget(self.command, 1)
        command_row.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)
        body.addLayout(command_row)
        self.show_commands = QCheckBox("Show the skiff command for each thing I do in this "
                                       "window", page)
        self.show_commands.setAccessibleName("Show commands")
        self.show_commands.setChecked(commands.enabled)
        self.show_commands.toggled.connect(commands.set_enabled)
        commands.enabled_changed.connect(self.show_commands.setChecked)
        body.addWidget(self.show_commands)
        self.history = QListWidget(page)
        self.history.setAccessibleName("Commands of this session")
        self.history.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.history.setMaximumHeight(120)
        for line in commands.history():
            self.history.addItem(line)
        self.history.setVisible(self.history.count() > 0)
        commands.recorded.connect(self._on_commands_recorded)
        body.addWidget(self.history)
        body.addStretch(1)

        self.scroller.setWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroller)
        self._show_facts(None)

    @staticmethod
    def _heading(text: str, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        label.setFont(font)
        label.setAccessibleName(text)
        label.setContentsMargins(0, 10, 0, 0)
        return label

    def show_part(self, part: str) -> None:
        """A part of the picture was clicked: scroll to its words and live numbers."""
        heading = self.part_headings.get(part)
        if heading is not None:
            self.scroller.verticalScrollBar().setValue(heading.y())

    # -- the container -------------------------------------------------------------------------

    def forget(self) -> None:
        self.facts = None
        self._show_facts(None)

    def outdated(self, previous: Container, container: Container) -> bool:
        return previous.state.status != container.state.status or \
            previous.state.started_at != container.state.started_at

    def load(self) -> None:
        container = self.container
        if container is None:
            return
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        wanted = container.id

        def done(facts: LearnFacts) -> None:
            if self.container is None or self.container.id != wanted:
                return
            self.facts = facts
            self._show_facts(facts)
            self.loaded.emit()

        def failed(text: str) -> None:
            if self.container is not None and self.container.id == wanted:
                self.message.emit(text)

        self._loading = self.bridge.submit(f"read the parts of {container.name}",
                                           lambda e: gather(e, container), done, failed)

    # -- showing ----------------------------------------------------------------------------

    def _show_facts(self, facts: LearnFacts | None) -> None:
        container = self.container
        self.intro.setText(learndata.intro(container.name) if container is not None else
                           "Pick a container to see what it is made of.")
        self.picture.show_facts(facts)
        if facts is None:
            self.stack.set_rows([])
            self.layers.set_rows([])
            self.namespaces.set_rows([])
            self.limits.set_rows([])
            self.peers.set_rows([])
            self.namespaces_note.setText("Loading…" if container is not None else "")
            self.network_summary.setText("")
            self.ports.setText("")
            self.command.setText("")
            return
        rows = learndata.layer_rows(facts.image, facts.changes)
        self.stack.set_rows(rows)
        self.layers.set_rows(rows)
        if facts.namespaces is not None:
            own = sum(1 for n in facts.namespaces if not n.shared)
            self.namespaces_note.setText(
                f"{facts.container.name} has {own} namespaces of its own and shares "
                f"{len(facts.namespaces) - own} with the host.")
            self.namespaces.set_rows(learndata.namespace_rows(facts.namespaces))
        else:
            self.namespaces_note.setText(facts.missing.get(
                "namespaces", "Namespaces exist only while the container runs: start it to "
                              "see them."))
            self.namespaces.set_rows([])
        self.limits.set_rows(learndata.limit_rows(facts.container, facts.stats))
        network = learndata.network_facts(facts.container, facts.network, facts.networks)
        self.network_summary.setText(network.summary)
        self.ports.setText(learndata.ports_text(network))
        self.peers.set_rows(network.peers)
        self.peers_view.setVisible(bool(network.peers))
        self.command.setText(facts.command or facts.missing.get("command", ""))

    def copy_command(self) -> None:
        if self.command.text():
            QGuiApplication.clipboard().setText(self.command.text())

    def _on_commands_recorded(self, line: str) -> None:
        self.history.addItem(line)
        self.history.show()
        while self.history.count() > 50:
            self.history.takeItem(0)
        self.history.scrollToBottom()


async def gather(engine: EngineLike, container: Container) -> LearnFacts:
    """Ask the engine for every part; a part that fails is left out, with the reason."""
    cid = container.id
    try:
        container = await engine.containers.get(cid)
    except SkiffError:
        pass
    facts = LearnFacts(container)

    async def part(name: str, call: Any) -> Any:
        try:
            return await call
        except asyncio.CancelledError:
            raise
        except SkiffError as exc:
            facts.missing[name] = str(exc)
        except Exception as exc:  # one broken part must not hide the others
            log.warning("reading %s of %s failed", name, container.name, exc_info=True)
            facts.missing[name] = f"Could not read it ({type(exc).__name__})."
        return None

    details = await part("inspect", engine.containers.inspect(cid))
    facts.network = details.network if details is not None else None
    facts.image = await part("image", engine.images.get(container.config.image_id))
    facts.changes = await part("changes", engine.containers.changes(cid))
    if container.state.status.is_active:
        facts.namespaces = await part("namespaces", engine.containers.namespaces(cid))
        facts.stats = await part("stats", engine.stats.get(cid))
    facts.networks = await part("networks", engine.networks.list()) or []
    facts.command = await part("command", engine.containers.command_line(cid)) or ""
    return facts
