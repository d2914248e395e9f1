"""Pull and push progress, drawn the way docker draws it.

On a terminal every layer has one line, redrawn in place as its events come
("a3ed95caeb02: Downloading [=====>     ]  1.2MB/4.3MB"); elsewhere (a pipe, a
log file) each layer's status changes are printed as plain lines, without the
byte counts, so that logs stay short and readable.
"""

from __future__ import annotations

from engine import (
    PULL_WORDS,
    PUSH_WORDS,
    WITH_BAR,
    layer_id,
    progress_bar,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = ["ProgressBoard"]

class ProgressBoard:
    """Turns PullProgress/PushProgress events into docker's layer lines."""

    def __init__(self, out: TextIO, tty: bool, push: bool = False, quiet: bool = False) -> None:
        self.out = out
        self.tty = tty
        self.words = PUSH_WORDS if push else PULL_WORDS
        self.quiet = quiet
        self.order: list[str] = []  # layer ids in first-seen order (one line each on a tty)
        self.lines: dict[str, str] = {}
        self.last_status: dict[str, str] = {}

    def line(self, text: str) -> None:
        """A line that is not a layer's (headers, digests, the final status)."""
        if self.quiet:
            return
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, event: Any) -> None:
        name = layer_id(event.layer)
        status = str(event.status)
        if self.quiet:
            return
        word = self.words.get(status, status.capitalize())
        text = f"{name}: {word}"
        if status in WITH_BAR:
            bar = progress_bar(int(event.current), int(event.total))
            if bar:
                text += f" {bar}"
        if self.tty:
            self._draw(name, text)
        elif self.last_status.get(name) != status:
            self.out.write(text.split(" [", 1)[0] + "\n")
            self.out.flush()
        self.last_status[name] = status

    def _draw(self, name: str, text: str) -> None:
        if name not in self.lines:
            self.order.append(name)
            self.lines[name] = text
            self.out.write(text + "\n")
        else:
            self.lines[name] = text
            up = len(self.order) - self.order.index(name)
            # Up to the layer's line, rewrite it, back down: docker's in-place redraw.
            self.out.write(f"\x1b[{up}A\r\x1b[2K{text}\r\x1b[{up}B")
        self.out.flush()
