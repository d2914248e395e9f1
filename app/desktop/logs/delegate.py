"""Paints log rows: ANSI colours, search highlights, stderr marked in red.

This runs for every visible cell on every repaint while a log floods in, so it
reads the model's cached row directly (no QVariant round trips), paints the
selection itself instead of asking the style, and keeps its colours per palette.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.desktop.logs import ansi
from app.desktop.logs.model import LogModel
from app.desktop.utils import theme

__all__ = ["LogDelegate"]

STRIPE = 3
_LEFT_VCENTER = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


class _Colours:
    def __init__(self, palette: QPalette) -> None:
        dark = theme.is_dark(palette)
        self.dark = dark
        self.text = palette.color(QPalette.ColorRole.Text)
        self.selected_text = palette.color(QPalette.ColorRole.HighlightedText)
        self.highlight = palette.color(QPalette.ColorRole.Highlight)
        self.muted = theme.muted(palette)
        self.stderr_bg = QColor(90, 20, 20, 110) if dark else QColor(255, 228, 228)
        self.stripe = QColor("#ef5350") if dark else QColor("#c62828")
        self.mark = QColor("#8a6d00") if dark else QColor("#ffe066")
        self.current = QColor("#ff9800")


class LogDelegate(QStyledItemDelegate):
    def __init__(self, model: LogModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.current_match = -1  # the view row of the match the user stepped to
        self._colours: tuple[int, _Colours] | None = None
        self._fonts: dict[tuple[bool, bool, bool], tuple[QFont, QFontMetrics]] = {}
        self._base = QFont()

    def set_font(self, font: QFont) -> None:
        """The view's font (rows are painted in it and its bold/italic variants)."""
        self._base = QFont(font)
        self._fonts.clear()

    def _palette_colours(self, palette: QPalette) -> _Colours:
        key = palette.cacheKey()
        if self._colours is None or self._colours[0] != key:
            self._colours = (key, _Colours(palette))
        return self._colours[1]

    def _font(self, bold: bool, italic: bool, underline: bool) -> tuple[QFont, QFontMetrics]:
        found = self._fonts.get((bold, italic, underline))
        if found is None:
            font = QFont(self._base)
            font.setBold(bold)
            font.setItalic(italic)
            font.setUnderline(underline)
            found = (font, QFontMetrics(font))
            self._fonts[(bold, italic, underline)] = found
        return found

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row = index.row()
        if not 0 <= row < self.model.rowCount():
            return
        data = self.model.row(row)
        colours = self._palette_colours(option.palette)
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        stderr = data.record.stream == "stderr"
        if selected:
            painter.fillRect(rect, colours.highlight)
        elif stderr:
            painter.fillRect(rect, colours.stderr_bg)
        plain_font, metrics = self._font(False, False, False)
        painter.setFont(plain_font)
        if index.column() == LogModel.COLUMN_TIME:
            if stderr:
                painter.fillRect(QRect(rect.left(), rect.top(), STRIPE, rect.height()),
                                 colours.stripe)
            painter.setPen(colours.selected_text if selected else colours.muted)
            painter.drawText(rect.adjusted(STRIPE + 4, 0, -4, 0), _LEFT_VCENTER,
                             data.local_time)
            return
        plain = data.plain
        left = rect.left() + 4
        search = self.model.search
        if search is not None and plain:
            mark = colours.current if row == self.current_match else colours.mark
            for start, end in search.spans(plain):
                x = left + metrics.horizontalAdvance(plain[:start])
                if x > rect.right():
                    break
                width = metrics.horizontalAdvance(plain[start:end])
                painter.fillRect(QRect(x, rect.top() + 1, width, rect.height() - 2), mark)
        spans = data.spans
        if len(spans) == 1 and spans[0].style is ansi.PLAIN:  # the common case: one call
            painter.setPen(colours.selected_text if selected else colours.text)
            painter.drawText(rect.adjusted(4, 0, 0, 0), _LEFT_VCENTER, plain)
            return
        x = left
        right = rect.right()
        for span in spans:
            if x > right:
                break
            style = span.style
            font, span_metrics = self._font(style.bold, style.italic, style.underline)
            width = span_metrics.horizontalAdvance(span.text)
            fg, bg = (style.bg, style.fg) if style.inverse else (style.fg, style.bg)
            if bg is not None and not selected:
                painter.fillRect(QRect(x, rect.top(), width, rect.height()),
                                 QColor(ansi.colour_hex(bg, colours.dark)))
            if selected:
                colour = colours.selected_text
            elif fg is None:
                colour = colours.text
            else:
                colour = QColor(ansi.colour_hex(fg, colours.dark))
            if style.faint:
                colour = QColor(colour)
                colour.setAlpha(160)
            painter.setPen(colour)
            painter.setFont(font)
            painter.drawText(QRect(x, rect.top(), width + 1, rect.height()), _LEFT_VCENTER,
                             span.text)
            x += width
