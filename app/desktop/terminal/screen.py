"""What an embedded terminal shows: a pyte screen plus the lines scrolled off its top.

pyte emulates the VT100/xterm screen; this subclass adds what a terminal
window needs on top of it: a bounded scrollback addressed by absolute line
numbers (so a selection stays on its text while output scrolls), a resize that
keeps the cursor's line on screen (pyte's own drops lines from the top even
when the cursor is near it), and answers to the program's queries (cursor
position, device attributes) sent back through ``respond``. No Qt here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import pyte
from pyte import modes
from pyte.screens import Margins

__all__ = ["BRACKETED_PASTE", "CURSOR_KEYS", "FEED_SLICE", "Line", "TerminalScreen"]

Line = Any  # pyte's StaticDefaultDict[int, Char]: a sparse row of cells

#: Private modes as pyte stores them (shifted by 5 bits).
CURSOR_KEYS = 1 << 5  # DECCKM: arrows send ESC O A instead of ESC [ A
BRACKETED_PASTE = 2004 << 5
FEED_SLICE = 8192


class TerminalScreen(pyte.Screen):
    def __init__(self, columns: int = 80, lines: int = 24, history: int = 5000,
                 respond: Callable[[str], None] | None = None) -> None:
        self.history: deque[Line] = deque(maxlen=history)
        self.dropped = 0  # lines that fell off the scrollback's top, ever
        self.respond = respond
        super().__init__(columns, lines)
        self._stream = pyte.ByteStream(self)

    # -- input -------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self._stream.feed(data)

    def write_process_input(self, data: str) -> None:
        if self.respond is not None:
            self.respond(data)

    # -- scrollback ----------------------------------------------------------------------

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self._remember(self.buffer[0])
        super().index()

    def _remember(self, line: Line) -> None:
        if len(self.history) == self.history.maxlen:
            self.dropped += 1
        self.history.append(line)

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:  # "clear scrollback" (what `clear` sends after 2)
            self.clear_history()

    def clear_history(self) -> None:
        self.dropped += len(self.history)
        self.history.clear()

    @property
    def first_line(self) -> int:
        """The absolute number of the oldest line still kept."""
        return self.dropped

    @property
    def screen_top(self) -> int:
        """The absolute number of the screen's first line."""
        return self.dropped + len(self.history)

    def line(self, number: int) -> Line | None:
        """The row with absolute number ``number`` (scrollback or screen), or None."""
        index = number - self.dropped
        if index < 0:
            return None
        if index < len(self.history):
            return self.history[index]
        y = index - len(self.history)
        if y < self.lines:
            return self.buffer[y]
        return None

    def line_text(self, number: int) -> str:
        row = self.line(number)
        if row is None:
            return ""
        return "".join(row[x].data for x in range(self.columns)).rstrip()

    def text(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """The characters from (line, column) ``start`` to ``end``, inclusive, as lines."""
        (l1, c1), (l2, c2) = sorted((start, end))
        out: list[str] = []
        for number in range(max(l1, self.first_line), l2 + 1):
            row = self.line(number)
            if row is None:
                break
            first = c1 if number == l1 else 0
            last = c2 if number == l2 else self.columns - 1
            out.append("".join(row[x].data for x in range(first, min(last, self.columns - 1)
                                                          + 1)).rstrip())
        return "\n".join(out)

    def lines_text(self) -> list[str]:
        """Every kept line, scrollback then screen, without trailing blanks."""
        return [self.line_text(n) for n in range(self.first_line, self.screen_top + self.lines)]

    # -- size ---------------------------------------------------------------------------

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = max(1, lines or self.lines)
        columns = max(2, columns or self.columns)
        if (lines, columns) == (self.lines, self.columns):
            return
        if lines < self.lines:
            # Keep the cursor's line: what goes off the top goes to the scrollback.
            drop = max(0, self.cursor.y - (lines - 1))
            for y in range(drop):
                self._remember(self.buffer[y])
            kept = {y - drop: self.buffer[y] for y in range(drop, drop + lines)
                    if y in self.buffer}
            self.buffer.clear()
            self.buffer.update(kept)
            self.cursor.y -= drop
        if columns < self.columns:
            for row in self.buffer.values():
                for x in range(columns, self.columns):
                    row.pop(x, None)
        self.lines, self.columns = lines, columns
        self.cursor.x = min(self.cursor.x, columns - 1)
        self.cursor.y = min(self.cursor.y, lines - 1)
        self.tabstops = {stop for stop in range(8, columns, 8)}
        self.margins = None
        self.dirty.update(range(lines))

    # -- modes ----------------------------------------------------------------------------

    @property
    def cursor_keys_mode(self) -> bool:
        return CURSOR_KEYS in self.mode

    @property
    def bracketed_paste(self) -> bool:
        return BRACKETED_PASTE in self.mode

    @property
    def cursor_visible(self) -> bool:
        return modes.DECTCEM in self.mode and not self.cursor.hidden

