"""Draws a :class:`TerminalScreen` and turns keys, mouse and resizes into terminal input.

The widget paints cells itself (colours, bold/italic/underline/strike,
reverse video, the cursor, the selection) row by row, in runs of cells that
share attributes. The scroll bar walks the scrollback; the wheel does too.
Typing goes out through ``input`` as the bytes xterm would send; the window's
shortcuts do not steal Ctrl+C or Ctrl+D (see terminal/keys.py). Copy is
Ctrl+Shift+C, paste Ctrl+Shift+V (bracketed when the program asked for it),
a mouse selection also fills the X11 primary selection, middle click pastes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QInputMethodEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QMenu, QWidget

from app.desktop.terminal.keys import is_copy, is_paste, key_bytes, wants_key

if TYPE_CHECKING:
    from app.desktop.terminal.screen import TerminalScreen

__all__ = ["TerminalWidget", "colour"]

PAD_X, PAD_Y = 6, 4  # room between the frame and the text

# The 16 ANSI colours (pyte's names), Tango-like: readable on light and dark.
_ANSI = {
    "black": "#2e3436", "red": "#cc0000", "green": "#4e9a06", "brown": "#c4a000",
    "blue": "#3465a4", "magenta": "#75507b", "cyan": "#06989a", "white": "#d3d7cf",
    "brightblack": "#555753", "brightred": "#ef2929", "brightgreen": "#8ae234",
    "brightbrown": "#fce94f", "brightblue": "#729fcf", "brightmagenta": "#ad7fa8",
    "brightcyan": "#34e2e2", "brightwhite": "#eeeeec",
}
_ALIASES = {"yellow": "brown", "brightyellow": "brightbrown", "bfightmagenta": "brightmagenta"}


def colour(name: str, default: QColor) -> QColor:
    """pyte's colour (a name, "default", or 6 hex digits) as a QColor."""
    if name == "default" or not name:
        return default
    name = _ALIASES.get(name, name)
    if name in _ANSI:
        return QColor(_ANSI[name])
    if len(name) == 6:
        value = QColor("#" + name)
        if value.isValid():
            return value
    return default


class TerminalWidget(QAbstractScrollArea):
    input = Signal(bytes)  # bytes for the program
    size_changed = Signal(int, int)  # rows, columns

    def __init__(self, emulator: TerminalScreen | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Terminal")
        self.setAccessibleDescription("A shell inside the container; Ctrl+Shift+C copies, "
                                      "Ctrl+Shift+V pastes")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.viewport().setAutoFillBackground(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        if emulator is None:  # (pyte is imported with the first terminal)
            from app.desktop.terminal.screen import TerminalScreen

            emulator = TerminalScreen()
        self.emulator = emulator
        self._anchor: tuple[int, int] | None = None
        self._end: tuple[int, int] | None = None
        self._selecting = False
        self._follow = True  # stick to the bottom as output arrives
        self.read_only = False  # after the program ended: no input, still scroll/copy
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        self.setFont(font)
        self._cell = QSize(8, 16)
        self._cw = 8.0
        self._ch = 16.0
        self._ascent = 12.0
        self._measure()
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)
        self.copy_action = QAction("&Copy", self)
        self.copy_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.copy_action.triggered.connect(self.copy)
        self.paste_action = QAction("&Paste", self)
        self.paste_action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.paste_action.triggered.connect(self.paste)
        self.clear_action = QAction("Clear &Scrollback", self)
        self.clear_action.triggered.connect(self.clear_scrollback)
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(15)
        self._refresh.timeout.connect(self._after_output)

    # -- geometry ---------------------------------------------------------------------

    def _measure(self) -> None:
        metrics = QFontMetricsF(self.font())
        self._cw = max(1.0, metrics.horizontalAdvance("M"))
        self._ch = max(1.0, float(int(metrics.lineSpacing() + 0.999)))
        self._ascent = metrics.ascent()

    def grid_size(self) -> tuple[int, int]:
        """(rows, columns) that fit the viewport."""
        size = self.viewport().size()
        return (max(1, int((size.height() - PAD_Y) // self._ch)),
                max(2, int((size.width() - PAD_X) // self._cw)))

    def sizeHint(self) -> QSize:
        return QSize(int(self._cw * 80) + 20 + PAD_X, int(self._ch * 24) + 4 + PAD_Y)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._measure()
            self._fit()

    def _fit(self) -> None:
        rows, cols = self.grid_size()
        if (rows, cols) != (self.emulator.lines, self.emulator.columns):
            self.emulator.resize(rows, cols)
            self.size_changed.emit(rows, cols)
        self._update_scrollbar()
        self.viewport().update()

    # -- output -------------------------------------------------------------------------

    def set_emulator(self, emulator: TerminalScreen) -> None:
        """Show another screen (a session's), fitted to this widget."""
        self.emulator = emulator
        self._anchor = self._end = None
        self._follow = True
        self._fit()

    def screen_changed(self) -> None:
        """Call after feeding the screen; repaints soon (coalesced)."""
        if not self._refresh.isActive():
            self._refresh.start()

    def _after_output(self) -> None:
        self._update_scrollbar()
        self.viewport().update()

    def _update_scrollbar(self) -> None:
        bar = self.verticalScrollBar()
        maximum = len(self.emulator.history)
        bar.blockSignals(True)
        bar.setRange(0, maximum)
        bar.setPageStep(self.emulator.lines)
        bar.setSingleStep(1)
        if self._follow:
            bar.setValue(maximum)
        bar.blockSignals(False)

    def _on_scroll(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum()
        self.viewport().update()

    def top_line(self) -> int:
        """The absolute number of the first line shown."""
        return self.emulator.first_line + self.verticalScrollBar().value()

    def scroll_to_bottom(self) -> None:
        self._follow = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def clear_scrollback(self) -> None:
        self.emulator.clear_history()
        self._anchor = self._end = None
        self._follow = True
        self._update_scrollbar()
        self.viewport().update()

    # -- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        foreground = palette.color(QPalette.ColorRole.Text)
        painter.fillRect(self.viewport().rect(), background)
        screen = self.emulator
        top = self.top_line()
        selection = self._selection()
        highlight = palette.color(QPalette.ColorRole.Highlight)
        highlighted_text = palette.color(QPalette.ColorRole.HighlightedText)
        base_font = QFont(self.font())
        painter.translate(PAD_X, PAD_Y)
        first_row = max(0, int((event.rect().top() - PAD_Y) // self._ch))
        last_row = min(screen.lines - 1, int((event.rect().bottom() - PAD_Y) // self._ch))
        for row in range(first_row, last_row + 1):
            number = top + row
            line = screen.line(number)
            if line is None:
                continue
            y = row * self._ch
            x = 0
            while x < screen.columns:
                cell = line[x]
                selected = selection is not None and _inside(selection, number, x)
                start = x
                text = [cell.data]
                x += 1
                while x < screen.columns:
                    other = line[x]
                    if other[1:] != cell[1:] or (selection is not None and
                                                 _inside(selection, number, x) != selected):
                        break
                    text.append(other.data)
                    x += 1
                fg = colour(cell.fg, foreground)
                bg = colour(cell.bg, background)
                if cell.reverse:
                    fg, bg = bg, fg
                if selected:
                    fg, bg = highlighted_text, highlight
                rect = QRectF(start * self._cw, y, (x - start) * self._cw, self._ch)
                if bg != background:
                    painter.fillRect(rect, bg)
                chars = "".join(text)
                if not chars.strip():
                    continue
                font = QFont(base_font)
                font.setBold(cell.bold)
                font.setItalic(cell.italics)
                font.setUnderline(cell.underscore)
                font.setStrikeOut(cell.strikethrough)
                painter.setFont(font)
                painter.setPen(fg)
                if chars.isascii():
                    painter.drawText(QPointF(rect.left(), y + self._ascent), chars)
                else:  # wide or combined characters: one cell each, so columns line up
                    column = start
                    for char in text:
                        if char:
                            painter.drawText(QPointF(column * self._cw, y + self._ascent), char)
                        column += 1
        self._paint_cursor(painter, top, foreground, background)
        painter.end()

    def _paint_cursor(self, painter: QPainter, top: int, foreground: QColor,
                      background: QColor) -> None:
        screen = self.emulator
        if self.read_only or not screen.cursor_visible:
            return
        row = screen.screen_top + screen.cursor.y - top
        if not 0 <= row < screen.lines:
            return
        column = min(screen.cursor.x, screen.columns - 1)
        rect = QRectF(column * self._cw, row * self._ch, self._cw, self._ch)
        cell = screen.buffer[screen.cursor.y][column]
        if self.hasFocus():
            painter.fillRect(rect, foreground)
            if cell.data.strip():
                painter.setPen(background)
                painter.setFont(self.font())
                painter.drawText(QPointF(rect.left(), rect.top() + self._ascent), cell.data)
        else:
            painter.setPen(foreground)
            painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))

    # -- keys ---------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and wants_key(event.key(), event.modifiers(), event.text()):
            event.accept()
            return True
        return super().event(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        return False  # Tab completes in the shell; it does not move the focus

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if is_copy(key, mods):
            self.copy()
            return
        if is_paste(key, mods):
            self.paste()
            return
        bare = mods & ~Qt.KeyboardModifier.KeypadModifier
        if bare == Qt.KeyboardModifier.ShiftModifier and key in (Qt.Key.Key_PageUp,
                                                                 Qt.Key.Key_PageDown):
            bar = self.verticalScrollBar()
            step = bar.pageStep() if key == Qt.Key.Key_PageDown else -bar.pageStep()
            bar.setValue(bar.value() + step)
            return
        if self.read_only:
            event.ignore()
            return
        data = key_bytes(key, mods, event.text(), self.emulator.cursor_keys_mode)
        if not data:
            event.ignore()
            return
        self.send(data)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        if event.commitString() and not self.read_only:
            self.send(event.commitString().encode("utf-8"))
        event.accept()

    def send(self, data: bytes) -> None:
        """Input for the program; scrolls back to the bottom like a terminal does."""
        self._anchor = self._end = None
        self.scroll_to_bottom()
        self.input.emit(data)

    # -- copy and paste ----------------------------------------------------------------------

    def _selection(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        if self._anchor is None or self._end is None or self._anchor == self._end:
            return None
        first, last = sorted((self._anchor, self._end))
        return first, last

    def selected_text(self) -> str:
        selection = self._selection()
        return self.emulator.text(*selection) if selection is not None else ""

    def select(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        """Select from (line, column) to (line, column), absolute line numbers."""
        self._anchor, self._end = start, end
        self.viewport().update()

    def copy(self) -> str:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def paste(self, text: str | None = None) -> None:
        if self.read_only:
            return
        if text is None:
            text = QGuiApplication.clipboard().text()
        self._paste(text)

    def _paste(self, text: str) -> None:
        if not text:
            return
        data = text.replace("\r\n", "\r").replace("\n", "\r").encode("utf-8")
        if self.emulator.bracketed_paste:
            data = b"\x1b[200~" + data.replace(b"\x1b[201~", b"") + b"\x1b[201~"
        self.send(data)

    def _cell_at(self, point: QPoint) -> tuple[int, int]:
        row = max(0, min(self.emulator.lines - 1, int((point.y() - PAD_Y) // self._ch)))
        column = max(0, min(self.emulator.columns - 1, int((point.x() - PAD_X) // self._cw)))
        return self.top_line() + row, column

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.LeftButton:
            self._anchor = self._end = self._cell_at(event.position().toPoint())
            self._selecting = True
            self.viewport().update()
        elif event.button() == Qt.MouseButton.MiddleButton:
            clipboard = QGuiApplication.clipboard()
            if clipboard.supportsSelection() and not self.read_only:
                self._paste(clipboard.text(clipboard.Mode.Selection))
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._selecting:
            self._end = self._cell_at(event.position().toPoint())
            self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._selecting:
            self._selecting = False
            text = self.selected_text()
            clipboard = QGuiApplication.clipboard()
            if text and clipboard.supportsSelection():
                clipboard.setText(text, clipboard.Mode.Selection)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        number, column = self._cell_at(event.position().toPoint())
        text = self.emulator.line_text(number)
        if column >= len(text) or text[column].isspace():
            return
        start = column
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        end = column
        while end + 1 < len(text) and not text[end + 1].isspace():
            end += 1
        self.select((number, start), (number, end))

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() - round(steps * 3))
        event.accept()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        self.copy_action.setEnabled(bool(self.selected_text()))
        self.paste_action.setEnabled(not self.read_only)
        menu.addAction(self.copy_action)
        menu.addAction(self.paste_action)
        menu.addSeparator()
        menu.addAction(self.clear_action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())


def _inside(selection: tuple[tuple[int, int], tuple[int, int]], line: int, column: int) -> bool:
    (l1, c1), (l2, c2) = selection
    return (l1, c1) <= (line, column) <= (l2, c2)
