"""A container the app is making from an image: pull if needed, create, start.

The sidebar shows it (downloading, creating) before the engine knows the
container; the image browser shows its pull. The bridge runs it.
"""

from __future__ import annotations

import asyncio
import itertools

from PySide6.QtCore import QObject, Signal

from app.desktop.images.pullmodel import PullModel
from engine.containers.model import Container
from engine.registry.model import PullProgress

__all__ = ["CreateJob"]

_numbers = itertools.count(1)


class CreateJob(QObject):
    """Phases: downloading → creating → starting → done, or failed / cancelled."""

    phase_changed = Signal(str)
    progressed = Signal()  # the pull advanced (see ``layers``)
    finished = Signal(object)  # the started Container
    failed = Signal(str)  # a sentence for the user
    cancelled = Signal()

    def __init__(self, ref: str, name: str, parent: QObject | None = None,
                 cmd: list[str] | None = None) -> None:
        super().__init__(parent)
        self.key = f"job-{next(_numbers)}"
        self.ref = ref
        self.name = name
        self.cmd = cmd  # None: the image's command
        self.phase = "downloading"
        self.layers = PullModel(self)
        self.task: asyncio.Task[None] | None = None
        self.container: Container | None = None
        self.error = ""

    @property
    def percent(self) -> int | None:
        return self.layers.percent

    @property
    def active(self) -> bool:
        return self.phase in ("downloading", "creating", "starting")

    def set_phase(self, phase: str) -> None:
        if phase != self.phase:
            self.phase = phase
            self.phase_changed.emit(phase)

    def on_progress(self, progress: PullProgress) -> None:
        """The engine's pull callback (called on the event loop's thread)."""
        self.layers.apply(progress)
        self.progressed.emit()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
