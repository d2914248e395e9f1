"""A project's logs: every service's lines interleaved in time order, each prefixed with its
container's name in its own colour, as ``skiff compose logs`` prints them. The filter is the
Logs tab's search (plain or regular expression, case or not; logs/index.py's LogSearch) over a
line's text and its container's name; the time of each line can be shown, as in the Logs
tab (local time). Each container's lines can be hidden with its button, the view jumps to a
moment, and what it shows can be saved as a file.

Bounded: the last :data:`KEEP` lines stay (the full log of one container is its Logs tab).
"""

from __future__ import annotations

import bisect
import html
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.logs.index import LogSearch
from app.desktop.logs.model import format_local_time
from engine import rfc3339_ns

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog, QFileDialog

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
    message = Signal(str)  # a short status sentence ("Saved 120 lines to …")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Project logs")
        self._lines: deque[LogLine] = deque(maxlen=KEEP)
        self._hidden: set[str] = set()  # containers whose lines are not shown
        self._toggles: dict[str, QToolButton] = {}
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
        self.jump = QPushButton("Jump to…", self)
        self.jump.setToolTip("Show the first line written at or after a moment")
        self.jump.clicked.connect(self.ask_jump)
        self.save = QPushButton("Save…", self)
        self.save.setToolTip("Save the lines shown as a text file")
        self.save.clicked.connect(self.ask_save)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        for widget in (self.regex, self.case, self.timestamps, self.jump, self.save):
            top.addWidget(widget)
        self._toggle_row = QHBoxLayout()
        self._toggle_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(self._toggle_row)
        layout.addWidget(self.text, 1)

    def clear(self) -> None:
        self._lines.clear()
        self._seen.clear()
        self._colours.clear()
        self._hidden.clear()
        for button in self._toggles.values():
            button.deleteLater()
        self._toggles.clear()
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
            self._add_toggle(container)
        return self._colours[container]

    def _add_toggle(self, container: str) -> None:
        """A button that shows or hides the container's lines, in its colour."""
        button = QToolButton(self)
        button.setText(container)
        button.setCheckable(True)
        button.setChecked(True)
        button.setAccessibleName(f"Show {container}'s lines")
        button.setToolTip(f"Show or hide the lines of {container}")
        button.setStyleSheet(f"QToolButton:checked {{ color: {self._colours[container]}; }}")
        button.toggled.connect(lambda on, name=container: self.show_container(name, on))
        self._toggles[container] = button
        self._toggle_row.insertWidget(self._toggle_row.count() - 1, button)

    def show_container(self, container: str, shown: bool) -> None:
        if shown == (container not in self._hidden):
            return
        if shown:
            self._hidden.discard(container)
        else:
            self._hidden.add(container)
        toggle = self._toggles.get(container)
        if toggle is not None and toggle.isChecked() != shown:
            toggle.setChecked(shown)
        self._render()

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
        if line.container in self._hidden:
            return False
        search = self._search
        return search is None or search.matches_line(line.text) or \
            search.matches_line(line.container)

    # -- jump and save --------------------------------------------------------------------

    def jump_to(self, ns: int) -> int | None:
        """Show the first line shown written at or after ``ns``; its row."""
        shown = [line for line in self._lines if self._shown(line)]
        if not shown:
            return None
        row = next((n for n, line in enumerate(shown) if (rfc3339_ns(line.time) or 0) >= ns),
                   len(shown) - 1)
        cursor = QTextCursor(self.text.document().findBlockByNumber(row))
        self.text.setTextCursor(cursor)
        self.text.centerCursor()
        return row

    def ask_jump(self) -> QDialog:
        from app.desktop.widgets.timedialogs import ask_jump_time, utc_stamp_to_local  # as LogView

        shown = next((line for line in self._lines if self._shown(line)), None)
        initial = utc_stamp_to_local(shown.time) if shown else QDateTime.currentDateTime()
        return ask_jump_time(self, initial, self.jump_to)

    def ask_save(self) -> QFileDialog:
        from app.desktop.widgets.timedialogs import ask_save_path

        return ask_save_path(self, self.save_to)

    def save_to(self, dest: Path) -> int:
        """Write the lines shown, as shown (``skiff compose logs``' form); how many."""
        text = self.text.toPlainText()
        count = text.count("\n") + 1 if text else 0
        try:
            dest.write_text(text + "\n" if text else "", encoding="utf-8")
        except OSError as exc:
            self.message.emit(f"Could not save the logs to {dest}: {exc.strerror or exc}")
            return 0
        self.message.emit(f"Saved {count:,} lines to {dest}")
        return count

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
