"""Pull and push progress, drawn the way docker draws it.

On a terminal every layer has one line, redrawn in place as its events come
("a3ed95caeb02: Downloading [=====>     ]  1.2MB/4.3MB"); elsewhere (a pipe, a
log file) each layer's status changes are printed as plain lines, without the
byte counts, so that logs stay short and readable.
"""

from __future__ import annotations

from typing import Any, TextIO

from engine.units import human_size

__all__ = ["ProgressBoard", "layer_id", "progress_bar"]

BAR_WIDTH = 50

_PULL_WORDS = {
    "waiting": "Waiting",
    "downloading": "Downloading",
    "verifying": "Verifying Checksum",
    "extracting": "Extracting",
    "done": "Pull complete",
    "exists": "Already exists",
}
_PUSH_WORDS = {
    "waiting": "Waiting",
    "pushing": "Pushing",
    "mounted": "Mounted from another repository",
    "exists": "Layer already exists",
    "done": "Pushed",
}
_WITH_BAR = ("downloading", "extracting", "pushing")


def layer_id(digest: str) -> str:
    """docker's short layer name: the first 12 hex digits of the digest."""
    return digest.split(":", 1)[-1][:12]


def progress_bar(current: int, total: int) -> str:
    """docker's bar: "[=====>      ]  1.2MB/4.3MB" (just the size when total is unknown)."""
    if total <= 0:
        return human_size(current, 4) if current else ""
    filled = max(0, min(BAR_WIDTH, current * BAR_WIDTH // total))
    bar = "=" * filled + ">" + " " * (BAR_WIDTH - filled)
    return f"[{bar}] {human_size(current, 4):>8}/{human_size(total, 4)}"


class ProgressBoard:
    """Turns PullProgress/PushProgress events into docker's layer lines."""

    def __init__(self, out: TextIO, tty: bool, push: bool = False, quiet: bool = False) -> None:
        self.out = out
        self.tty = tty
        self.words = _PUSH_WORDS if push else _PULL_WORDS
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
        if status in _WITH_BAR:
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
