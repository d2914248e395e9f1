"""The Stats tab: live charts of a container's CPU, memory, network, disk and processes.

Charts start from the engine's recorded history (so they survive switching
containers and restarting the app) and grow by one point a second from the
shared :class:`StatsFeed`. Below them, the container's processes as the host
sees them. "Export CSV" writes the recorded history to a file.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.stats.chartunits import bytes_text, rate_text
from app.desktop.stats.feed import StatsFeed
from app.desktop.stats.series import StatsSeries
from app.desktop.widgets.rowtable import Column, RowTable
from engine import Container, ContainerNotFound, ProcessInfo, Stats

if TYPE_CHECKING:
    from app.desktop.stats.chart import StatsChart
    from engine import Engine

__all__ = ["RANGES", "StatsView", "process_columns"]

RANGES = (("Last 5 minutes", 300), ("Last 10 minutes", 600), ("Last hour", 3600))
PROCESS_SECONDS = 2000  # ms between process list refreshes
MIN_SHOWN = 30.0  # seconds: the narrowest time axis


def process_columns() -> list[Column]:
    return [
        Column("PID", lambda p: str(p.pid), sort=lambda p: p.pid, right=True,
               tooltip=lambda p: "The process ID as the host sees it (inside the container "
                                 "it has another, smaller one: its own PID namespace)"),
        Column("User", lambda p: p.user),
        Column("CPU %", lambda p: f"{p.cpu_percent:.1f}", sort=lambda p: p.cpu_percent,
               right=True),
        Column("Memory", lambda p: bytes_text(p.memory_rss), sort=lambda p: p.memory_rss,
               right=True),
        Column("Command", lambda p: p.command, tooltip=lambda p: p.command),
    ]


class StatsView(QWidget):
    message = Signal(str)
    series_loaded = Signal()  # the recorded history arrived and is drawn

    def __init__(self, bridge: Bridge, feed: StatsFeed, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Stats")
        self.bridge = bridge
        self.feed = feed
        self.container: Container | None = None
        self.seconds = 600
        self.series = StatsSeries(self.seconds)
        self._pending: list[Stats] = []
        self._loading = ""
        self._dirty = False
        self._top_busy = False

        self.heading = QLabel(self)
        self.heading.setAccessibleName("Stats summary")
        self.heading.setWordWrap(True)
        self.range = QComboBox(self)
        self.range.setAccessibleName("Time range")
        for label, _seconds in RANGES:
            self.range.addItem(label)
        self.range.setCurrentIndex(1)
        self.range.currentIndexChanged.connect(self._on_range_changed)
        self.export = QPushButton("Export CSV…", self)
        self.export.setAccessibleName("Export CSV")
        self.export.setToolTip("Save the recorded samples (up to an hour) as a CSV file")
        self.export.clicked.connect(self.ask_export)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.range)
        top.addWidget(self.export)

        # The charts (and pyqtgraph, ~0.5 s to import) come when the tab is first shown:
        # the window must paint fast.
        self._charts: tuple[StatsChart, ...] | None = None
        grid_widget = QWidget(self)
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        self._grid = grid
        self.explain = QLabel(
            "CPU: 100 % is one full core, so a container can go above 100 % on a computer "
            "with several. Memory is what the kernel charges to the container's cgroup (page "
            "cache included); the dashed line is its limit. Network counts its own network "
            "interface; disk, what its processes read and wrote.", self)
        self.explain.setWordWrap(True)
        self.explain.setAccessibleName("What the charts show")
        grid.addWidget(self.explain, 1, 2, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)

        self.processes = RowTable(process_columns(), self)
        self.sorted = QSortFilterProxyModel(self)
        self.sorted.setSourceModel(self.processes)
        self.sorted.setSortRole(RowTable.SortRole)
        self.table = QTableView(self)
        self.table.setAccessibleName("Processes")
        self.table.setModel(self.sorted)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table_label = QLabel("Processes", self)
        self.table_label.setAccessibleName("Processes heading")
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.table_label)
        lower_layout.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(grid_widget)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        self._top_timer = QTimer(self)
        self._top_timer.setInterval(PROCESS_SECONDS)
        self._top_timer.timeout.connect(self.refresh_processes)
        # Slides the time axis when a running container's samples pause; a stopped
        # container's charts stand still and cost nothing (they cost ~6 % of a core
        # when redrawn every second).
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock_timeout)
        self._last_sample = 0.0
        feed.sampled.connect(self._on_feed_sampled)
        self._redraw()

    # -- the charts, made on first use --------------------------------------------------------

    def _ensure_charts(self) -> tuple[StatsChart, ...]:
        if self._charts is None:
            from app.desktop.stats.chart import StatsChart

            self._charts = (
                StatsChart("CPU", ["#1e88e5"], axis_format=lambda v: f"{v:.0f} %", parent=self),
                StatsChart("Memory", ["#8e24aa"], axis_format=bytes_text, parent=self,
                           binary=True),
                StatsChart("Network", ["#43a047", "#fb8c00"], ["received", "sent"],
                           axis_format=rate_text, parent=self, binary=True),
                StatsChart("Disk", ["#00897b", "#e53935"], ["read", "written"],
                           axis_format=rate_text, parent=self, binary=True),
                StatsChart("Processes", ["#6d4c41"], axis_format=lambda v: f"{v:.0f}",
                           parent=self),
            )
            for number, chart in enumerate(self._charts):
                self._grid.addWidget(chart, number // 3, number % 3)
        return self._charts

    charts = property(lambda self: self._ensure_charts())
    cpu = property(lambda self: self._ensure_charts()[0])
    memory = property(lambda self: self._ensure_charts()[1])
    network = property(lambda self: self._ensure_charts()[2])
    disk = property(lambda self: self._ensure_charts()[3])
    pids = property(lambda self: self._ensure_charts()[4])

    # -- the container ---------------------------------------------------------------------

    def set_container(self, container: Container | None) -> None:
        previous = self.container
        self.container = container
        self.feed.follow(container)
        if container is None:
            self.series.clear()
            self.processes.set_rows([])
            self._update_clock()
            self._redraw()
            return
        if previous is None or previous.id != container.id:
            self.series = StatsSeries(self.seconds)
            self._pending = []
            self.processes.set_rows([])
            self._load_history()
            if self.isVisible():
                self.refresh_processes()
        elif not container.state.status.is_active:
            self.processes.set_rows([])
        self._update_clock()
        self._redraw()

    def _update_clock(self) -> None:
        live = self.container is not None and self.container.state.status.is_active
        if live and self.isVisible():
            if not self._clock.isActive():
                self._clock.start()
        else:
            self._clock.stop()

    def _on_clock_timeout(self) -> None:
        if time.monotonic() - self._last_sample > 1.5:  # a sample redraws by itself
            self._redraw()

    def _load_history(self) -> None:
        container = self.container
        if container is None:
            return
        wanted = container.id
        self._loading = wanted
        seconds = self.seconds

        async def read(engine: Engine) -> list[Stats] | None:
            try:
                return await engine.stats.history(wanted, seconds)
            except ContainerNotFound:
                return None  # removed (a `run --rm` that ended): the list drops it next

        def loaded(history: list[Stats] | None) -> None:
            if self.container is None or self.container.id != wanted:
                return
            self._loading = ""
            if history is None:
                return
            fresh = StatsSeries(seconds)
            fresh.extend(history)
            fresh.extend(self._pending)
            self._pending = []
            self.series = fresh
            self._redraw()
            self.series_loaded.emit()

        def failed(text: str) -> None:
            if self.container is not None and self.container.id == wanted:
                self._loading = ""
                self.message.emit(text)

        self.bridge.submit("read the recorded use of the container", read, loaded, failed)

    def _on_range_changed(self, index: int) -> None:
        self.seconds = RANGES[index][1]
        if self.container is not None:
            self.series = StatsSeries(self.seconds)
            self._pending = []
            self._load_history()
        self._redraw()

    def _on_feed_sampled(self, samples: list[Stats]) -> None:
        container = self.container
        if container is None:
            return
        for sample in samples:
            if sample.id != container.id:
                continue
            self._last_sample = time.monotonic()
            if self._loading:
                self._pending.append(sample)
            else:
                self.series.append(sample)
        if self.isVisible():
            self._redraw()
        else:
            self._dirty = True

    # -- drawing ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._charts is None:
            self._ensure_charts()
            self._dirty = True
        self._update_clock()
        self._top_timer.start()
        self.refresh_processes()
        if self._dirty:
            self._redraw()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._clock.stop()
        self._top_timer.stop()

    def _redraw(self) -> None:
        if self._charts is None and not self.isVisible():
            self._dirty = True  # drawn when first shown
            return
        self._dirty = False
        s = self.series
        container = self.container
        now = time.time()
        times = list(s.times)
        self.cpu.set_data(times, s.cpu)
        self.memory.set_data(times, s.memory)
        self.network.set_data(times, s.rx, s.tx)
        self.disk.set_data(times, s.read, s.write)
        self.pids.set_data(times, s.pids)
        # Fewer samples than the range: show at least a minute, not a sliver at the edge.
        start = now - self.seconds
        if times:
            start = max(start, min(times[0], now - MIN_SHOWN))
        for chart in self.charts:
            chart.set_x_range(start, now)
        self.cpu.set_y_range(max(100.0, s.peak("cpu") * 1.1))
        memory_limit = container.config.resources.memory if container is not None else None
        peak_memory = s.peak("memory")
        self.memory.set_limit(float(memory_limit) if memory_limit else None)
        self.memory.set_y_range(max(float(memory_limit or 0) * 1.05, peak_memory * 1.25,
                                    1 << 20))
        pids_limit = container.config.resources.pids_limit if container is not None else None
        self.pids.set_limit(float(pids_limit) if pids_limit else None)
        self.pids.set_y_range(max(float(pids_limit or 0) * 1.05, s.peak("pids") * 1.25, 4))
        self.network.set_y_range(max(s.peak("rx"), s.peak("tx"), 1024) * 1.25)
        self.disk.set_y_range(max(s.peak("read"), s.peak("write"), 1024) * 1.25)
        self._headings(memory_limit, pids_limit)

    def _headings(self, memory_limit: int | None, pids_limit: int | None) -> None:
        s = self.series
        container = self.container
        cpu = s.latest("cpu")
        self.cpu.set_heading(_value(cpu, lambda v: f"{v:.0f} %"))
        memory = s.latest("memory")
        if math.isnan(memory):
            self.memory.set_heading("")
        elif memory_limit:
            self.memory.set_heading(f"{bytes_text(memory)} of {bytes_text(memory_limit)} "
                                    f"({100 * memory / memory_limit:.0f} %)")
        else:
            self.memory.set_heading(f"{bytes_text(memory)}, no limit")
        self.network.set_heading(_value(s.latest("rx"), lambda v: f"in {rate_text(v)}, out "
                                        f"{rate_text(s.latest('tx'))}"))
        self.disk.set_heading(_value(s.latest("read"), lambda v: f"read {rate_text(v)}, "
                                     f"write {rate_text(s.latest('write'))}"))
        pids = s.latest("pids")
        self.pids.set_heading(_value(pids, lambda v: f"{v:.0f}" + (
            f" of {pids_limit}" if pids_limit else "")))
        if container is None:
            self.heading.setText("")
        elif container.state.status.is_active:
            self.heading.setText(
                f"<b>{container.name}</b>: live, one point a second. The engine records "
                "these samples, so the charts come back after switching containers or "
                "restarting Skiff.")
        else:
            self.heading.setText(
                f"<b>{container.name}</b> is not running: the charts show what was recorded "
                "while it ran.")
        running = container is not None and container.state.status.is_active
        self.table_label.setText("Processes (as the host sees them)" if running else
                                 "Processes: none, the container is not running")

    # -- processes ----------------------------------------------------------------------------

    def refresh_processes(self) -> None:
        container = self.container
        if container is None or not container.state.running or self._top_busy:
            return
        wanted = container.id
        self._top_busy = True

        def done(processes: list[ProcessInfo]) -> None:
            self._top_busy = False
            if self.container is not None and self.container.id == wanted:
                self.processes.set_rows(processes)

        def failed(text: str) -> None:
            self._top_busy = False
            if self.container is not None and self.container.id == wanted and \
                    self.container.state.running:
                self.processes.set_rows([])

        task = self.bridge.submit("list the container's processes",
                                  lambda e: e.containers.top(wanted), done, failed)
        if task is None:
            self._top_busy = False

    # -- export -------------------------------------------------------------------------------

    def ask_export(self) -> None:
        container = self.container
        if container is None:
            return
        dialog = QFileDialog(self, "Export stats as CSV", str(Path.home() /
                                                              f"{container.name}-stats.csv"),
                             "CSV files (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda path: self.export_csv(Path(path)))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()

    def export_csv(self, path: Path) -> Any:
        container = self.container
        if container is None:
            return None
        name = container.name
        wanted = container.id

        def done(count: int) -> None:
            self.message.emit(f"Saved {count} samples of {name} to {path}.")

        return self.bridge.submit(f"export the stats of {name}",
                                  lambda e: e.stats.export(wanted, path), done)


def _value(value: float, text: Any) -> str:
    return "" if math.isnan(value) else str(text(value))
