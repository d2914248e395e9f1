"""One build, run through the bridge: the engine's build events as Qt signals.

The engine calls back on the event loop's thread (qasync), so each event becomes
a signal at once: text for the output view, a row for the layer strip when a
step is done, and the image ID (or the error) at the end.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.desktop.bridge import Bridge

if TYPE_CHECKING:
    from engine import Engine

__all__ = ["BuildJob", "BuildRequest", "StepRow"]


@dataclass(frozen=True)
class BuildRequest:
    folder: Path | str  # a folder, or a git repository's or a URL's address
    dockerfile: str = "Dockerfile"
    tag: str = ""
    build_args: tuple[tuple[str, str], ...] = ()
    no_cache: bool = False


@dataclass(frozen=True)
class StepRow:
    """A finished step: what the layer strip shows."""

    step: int
    total: int
    instruction: str
    size: int  # bytes of the layer it made (0: none)
    cached: bool
    image_id: str


class BuildJob(QObject):
    output = Signal(str)  # text, as `skiff build` prints it
    step_started = Signal(int, int, str)  # step, total, instruction
    step_done = Signal(object)  # StepRow
    finished = Signal(str)  # the image ID
    failed = Signal(str)  # a sentence for the user

    def __init__(self, bridge: Bridge, request: BuildRequest,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.request = request
        self.image_id = ""
        self.running = False
        self.task: asyncio.Task[Any] | None = None
        self._instruction = ""

    def start(self) -> None:
        self.running = True
        self.task = self.bridge.submit("build the image", self._run, self._done, self._failed)

    def cancel(self) -> None:
        """Stop the build; the engine removes its temporary container."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _run(self, engine: Engine) -> str:
        from engine import BuildOptions, open_context

        request = self.request
        loop = asyncio.get_running_loop()
        context = await loop.run_in_executor(None, open_context, request.folder)
        try:
            options = BuildOptions(dockerfile=request.dockerfile or "Dockerfile",
                                   tags=(request.tag,) if request.tag else (),
                                   build_args=dict(request.build_args),
                                   no_cache=request.no_cache)
            result = await engine.images.build(context, options, self._on_event)
        finally:
            context.close()
        return str(result.image_id)

    def _on_event(self, event: Any) -> None:
        from engine import render

        text = render(event)
        if text:
            self.output.emit(text)
        if event.kind == "step":
            self._instruction = event.text
            self.step_started.emit(event.step, event.total, event.text)
        elif event.kind == "step_done":
            self.step_done.emit(StepRow(event.step, event.total, self._instruction,
                                        event.size, event.cached, event.image_id))

    def _done(self, image_id: str) -> None:
        self.running = False
        self.image_id = image_id
        self.finished.emit(image_id)

    def _failed(self, message: str) -> None:
        self.running = False
        self.failed.emit(message)
