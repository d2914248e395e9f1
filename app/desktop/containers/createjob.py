"""A container the app is making from an image: pull if needed, create, start.

The sidebar shows it (downloading, creating) before the engine knows the
container; the image browser shows its pull. :func:`create_container` starts one
as a task of the bridge, which announces it (``job_started``).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.desktop.containers.pullmodel import PullModel
from app.desktop.utils.messages import describe, log_failure
from engine import (
    Container,
    ContainerConfig,
    Image,
    ImageNotFound,
    NameInUse,
    PullProgress,
    image_name,
)

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge

__all__ = ["CreateJob", "create_container"]

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

    async def run(self, bridge: Bridge, pull: bool) -> None:
        """Pull ``ref`` (always when ``pull``, else only if missing), create and start;
        run by the bridge as one of its tasks."""
        job = self
        engine = bridge.engine
        try:
            if engine is None:
                raise RuntimeError("the engine is not running")
            image: Image | None = None
            if not pull:
                try:
                    image = await engine.images.get(job.ref)
                except ImageNotFound:
                    image = None
            if image is None:
                job.set_phase("downloading")
                bridge.status.emit(f"Downloading {job.ref}…")
                image = await engine.images.pull(job.ref, progress=job.on_progress)
                bridge.status.emit("")
                bridge.refresh_images()
            job.set_phase("creating")
            # Stdin stays open (as Kitematic did, docker run -i) so that images whose
            # command is a shell keep running instead of exiting at once.
            config = ContainerConfig(image=job.ref, image_id=image.id, cmd=job.cmd,
                                     open_stdin=True)
            container: Container | None = None
            for _attempt in range(20):
                try:
                    container = await engine.containers.create(config, job.name)
                    break
                except NameInUse:
                    bridge.note_names({job.name})
                    job.name = image_name(job.ref, bridge.taken_names())
            if container is None:
                raise NameInUse(f"no free name like {job.name}: rename some containers")
            job.container = container
            bridge.announce(container)
            job.set_phase("starting")
            container = await engine.containers.start(container.id)
            job.container = container
            bridge.announce(container)
            job.set_phase("done")
            job.finished.emit(container)
        except asyncio.CancelledError:
            bridge.status.emit("")
            bridge.forget_name(job.name)
            job.set_phase("cancelled")
            job.cancelled.emit()
            raise
        except Exception as exc:
            log_failure(f"creating {job.ref}", exc)
            bridge.report_unavailable(exc)
            bridge.status.emit("")
            if job.container is None:
                bridge.forget_name(job.name)
            message = describe(f"create a container from {job.ref}", exc)
            job.error = message
            job.set_phase("failed")
            job.failed.emit(message)
            bridge.error.emit(message)


def create_container(bridge: Bridge, ref: str, *, pull: bool = True, name: str = "",
                     taken: set[str] | None = None, cmd: list[str] | None = None) -> CreateJob:
    """Pull ``ref`` (always when ``pull``, else only if missing), create and start."""
    taken = set(taken or ()) | bridge.taken_names()
    job = CreateJob(ref, name or image_name(ref, taken), bridge, cmd)
    bridge.note_names({job.name})
    job.task = bridge.spawn(job.run(bridge, pull))
    bridge.job_started.emit(job)
    return job
