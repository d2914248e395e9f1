"""A project's logs: every service's lines interleaved in time order, each prefixed with its
container's name in its own colour, as ``skiff compose logs`` prints them. The filter is the
Logs tab's search (plain or regular expression, case or not; logs/index.py's LogSearch) over a
line's text and its container's name; the time of each line can be shown, as in the Logs
tab (local time).

Bounded: the last :data:`KEEP` lines stay (the full log of one container is its Logs tab).
"""

from __future__ import annotations

import bisect
import html
import re
from collections import deque
from dataclasses import dataclass

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.desktop.logs.index import LogSearch
from app.desktop.logs.model import format_local_time

__all__ = ["KEEP", "LogLine", "ProjectLogView"]

KEEP = 5000
#: Compose's rainbow for the service prefixes (cyan, yellow, green, magenta, blue, red, ...)
COLOURS = ("#2aa1b3", "#b58900", "#4e9a06", "#a347ba", "#3465a4", "#cc0000")


@dataclass(frozen=True, order=True)
class LogLine:
    time: str  # RFC 3339, UTC: sorts as text
    container: str
    text: str


class ProjectLogView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Project logs")
        self._lines: deque[LogLine] = deque(maxlen=KEEP)
        self._seen: set[LogLine] = set()  # a log followed again repeats its last lines
        self._colours: dict[str, str] = {}
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter lines (text or container name)")
        self.filter.setAccessibleName("Filter project logs")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._on_filter_changed)
        self.regex = QCheckBox("Regex", self)
        self.regex.setToolTip("The filter is a regular expression")
        self.case = QCheckBox("Match case", self)
        self.timestamps = QCheckBox("Timestamps", self)
        self.timestamps.setToolTip("Each line's time (local)")
        for box in (self.regex, self.case, self.timestamps):
            box.toggled.connect(self._on_filter_changed)
        self._search: LogSearch | None = None
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Project log lines")
        self.text.setMaximumBlockCount(KEEP)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        for box in (self.regex, self.case, self.timestamps):
            top.addWidget(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)

    def clear(self) -> None:
        self._lines.clear()
        self._seen.clear()
        self._colours.clear()
        self.text.clear()

    def set_containers(self, names: list[str]) -> None:
        """The containers whose lines will come: each gets its colour, and the prefixes
        are as wide as the longest name, from the first line on."""
        width = max((len(c) for c in self._colours), default=0)
        for name in sorted(names):
            self.colour_of(name)
        if self._lines and max(len(c) for c in self._colours) != width:
            self._render()  # the prefixes line up again

    def colour_of(self, container: str) -> str:
        if container not in self._colours:
            self._colours[container] = COLOURS[len(self._colours) % len(COLOURS)]
        return self._colours[container]

    def add(self, lines: list[LogLine]) -> None:
        """Lines from any container, in any order: kept in time order; those that arrive
        after the last one shown are appended, older ones redraw the view."""
        lines = [line for line in dict.fromkeys(lines) if line not in self._seen]
        if not lines:
            return
        if len(self._seen) > 2 * KEEP:
            self._seen = set(self._lines)
        self._seen.update(lines)
        last = self._lines[-1] if self._lines else None
        ordered = sorted(lines)
        if last is None or ordered[0] >= last:
            self._lines.extend(ordered)
            for line in ordered:
                if self._shown(line):
                    self.text.appendHtml(self._html(line))
            return
        merged = list(self._lines)
        for line in ordered:
            bisect.insort(merged, line)
        self._lines = deque(merged[-KEEP:], maxlen=KEEP)
        self._render()

    def lines(self) -> list[LogLine]:
        return list(self._lines)

    def shown_text(self) -> str:
        return self.text.toPlainText()

    def _on_filter_changed(self) -> None:
        text = self.filter.text()
        try:
            self._search = LogSearch(text, regex=self.regex.isChecked(),
                                     case=self.case.isChecked()) if text else None
        except re.error:  # half typed: every line stays until it is a pattern
            self._search = None
        self.filter.setToolTip("" if self._search is not None or not text
                               else "Not a regular expression (yet)")
        self._render()

    def _shown(self, line: LogLine) -> bool:
        search = self._search
        return search is None or search.matches_line(line.text) or \
            search.matches_line(line.container)

    def _html(self, line: LogLine) -> str:
        width = max((len(c) for c in self._colours), default=0)
        colour = QColor(self.colour_of(line.container)).name()
        when = f"{format_local_time(line.time)} " if self.timestamps.isChecked() else ""
        prefix = html.escape(f"{line.container:<{width}} | {when}").replace(" ", "&nbsp;")
        return (f'<span style="color:{colour}; font-family:monospace">{prefix}</span>'
                f'<span style="font-family:monospace">{html.escape(line.text)}</span>')

    def _render(self) -> None:
        for line in self._lines:
            self.colour_of(line.container)
        self.text.clear()
        for line in self._lines:
            if self._shown(line):
                self.text.appendHtml(self._html(line))
