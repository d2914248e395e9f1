"""The welcome page's two first steps that are not the image browser's.

"Build from a Folder…" opens the Build Image dialog. "Run Your First Container"
(shown when there are images but no container) makes one from the newest local
image, nothing downloaded, with its own command; when it runs, its What Is This?
tab opens with its logs beside it: what it is and what it does, together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from engine import Container

if TYPE_CHECKING:
    from app.desktop.containers.createjob import CreateJob
    from app.desktop.frame import Frame

__all__ = ["FirstRun"]


class FirstRun(QObject):
    def __init__(self, window: Frame) -> None:
        super().__init__(window)
        self.window = window
        self.job: CreateJob | None = None
        window.welcome.build_requested.connect(self._on_welcome_build_requested)
        window.welcome.run_requested.connect(self.run)

    def _on_welcome_build_requested(self) -> None:
        action = getattr(self.window, "a_build", None)
        if action is not None:
            action.trigger()

    def run(self) -> CreateJob | None:
        rows = self.window.images.rows()
        if not rows:
            return None
        from app.desktop.containers.createjob import create_container  # (when used)

        newest = max(rows, key=lambda row: (row.image.created, row.ref))
        self.job = create_container(self.window.bridge, newest.ref, pull=False)
        self.job.finished.connect(self._on_job_finished)
        return self.job

    def _on_job_finished(self, container: object) -> None:
        if isinstance(container, Container):
            self.window.select(container.id)
            self.window.show_tab("learn")
            self.window.details.show_beside("logs", "learn")
