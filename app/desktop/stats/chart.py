"""One live chart of the Stats tab: a pyqtgraph plot over time, in the window's colours.

A chart has a title that carries the latest value in words ("CPU 97 %"),
named curves, an optional dashed limit line, and a y axis in the quantity's
own units (percent, bytes, bytes per second, processes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from app.desktop.stats.chartunits import bytes_text, rate_text

__all__ = ["StatsChart", "bytes_text", "rate_text"]


class _UnitAxis(pg.AxisItem):
    """Ticks written with ``format`` (sizes, rates) instead of SI prefixes."""

    def __init__(self, format: Callable[[float], str] | None,
                 orientation: str = "left", binary: bool = False) -> None:
        super().__init__(orientation)
        self._format = format
        self._binary = binary
        if format is not None:
            self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float,
                    size: float) -> list[tuple[float, float]]:
        """Bytes tick at powers of two (16 MiB, 32 MiB), as limits are set."""
        if not self._binary or maxVal <= minVal:
            return super().tickSpacing(minVal, maxVal, size)
        raw = (maxVal - minVal) / 4
        unit = 1024.0 ** max(0, math.floor(math.log(max(raw, 1.0), 1024)))
        step = next((unit * m for m in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
                     if unit * m >= raw), unit * 1024)
        return [(step, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self._format is None:
            return super().tickStrings(values, scale, spacing)
        return [self._format(v) for v in values]


class StatsChart(pg.PlotWidget):
    def __init__(self, title: str, colours: Sequence[str], names: Sequence[str] = (),
                 axis_format: Callable[[float], str] | None = None,
                 parent: QWidget | None = None, binary: bool = False) -> None:
        super().__init__(parent=parent, axisItems={
            "bottom": pg.DateAxisItem(orientation="bottom"),
            "left": _UnitAxis(axis_format, "left", binary)})
        self.title = title
        self.setAccessibleName(f"{title} chart")
        self.setMinimumSize(160, 120)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        item = self.getPlotItem()
        item.showGrid(x=False, y=True, alpha=0.25)
        item.getAxis("left").setWidth(58)
        self._legend = item.addLegend(offset=(4, 4), labelTextSize="8pt") if names else None
        self.curves = []
        for index, colour in enumerate(colours):
            name = names[index] if index < len(names) else None
            self.curves.append(self.plot([], [], pen=pg.mkPen(QColor(colour), width=2),
                                         name=name, connect="finite"))
        self.limit_line = pg.InfiniteLine(angle=0, movable=False,
                                          pen=pg.mkPen(QColor("#c62828"), width=1,
                                                       style=Qt.PenStyle.DashLine))
        self.limit_line.setVisible(False)
        self.addItem(self.limit_line)
        self._apply_palette()
        self.set_heading("")

    def set_heading(self, detail: str) -> None:
        colour = self.palette().color(QPalette.ColorRole.WindowText).name()
        text = f"<b>{self.title}</b>" + (f"&nbsp;&nbsp;{detail}" if detail else "")
        self.getPlotItem().setTitle(text, color=colour, size="9pt")
        self.setAccessibleDescription(f"{self.title} {detail}".strip())

    def set_data(self, times: Iterable[float], *columns: Iterable[float]) -> None:
        xs = list(times)
        for curve, ys in zip(self.curves, columns, strict=False):
            curve.setData(xs, list(ys), connect="finite")

    def set_limit(self, value: float | None) -> None:
        """A dashed line at ``value`` (a memory or pids limit); None hides it."""
        if value is None:
            self.limit_line.setVisible(False)
            return
        self.limit_line.setPos(value)
        self.limit_line.setVisible(True)

    def set_y_range(self, top: float) -> None:
        self.setYRange(0, max(top, 1e-9), padding=0.05)

    def set_x_range(self, start: float, end: float) -> None:
        self.setXRange(start, end, padding=0)

    def latest(self, curve: int = 0) -> float:
        """The last value drawn by a curve (NaN when empty)."""
        _xs, ys = self.curves[curve].getData()
        if ys is None or len(ys) == 0:
            return math.nan
        return float(ys[-1])

    def _apply_palette(self) -> None:
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.WindowText)
        self.setBackground(background)
        item = self.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))
        if self._legend is not None:
            self._legend.setLabelTextColor(text)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) \
                and hasattr(self, "limit_line"):
            self._apply_palette()
