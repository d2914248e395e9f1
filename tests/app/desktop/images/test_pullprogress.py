"""The pull progress panel of a container being made."""

from __future__ import annotations

from typing import Any

from app.desktop.containers.createjob import CreateJob
from app.desktop.images.pullprogress import PullProgress
from engine.registry.model import PullProgress as Progress
from engine.units import human_size
from tests.app.desktop.conftest import screenshot


def test_pull_progress_panel(qtbot: Any) -> None:
    job = CreateJob("127.0.0.1:5000/test/busybox:latest", "busybox")
    panel = PullProgress(job)
    qtbot.addWidget(panel)
    panel.resize(760, 230)
    panel.show()
    layers = ["sha256:" + c * 64 for c in "1234"]
    job.on_progress(Progress(layers[0], "done", 2_150_000, 2_150_000))
    job.on_progress(Progress(layers[1], "downloading", 9_400_000, 27_800_000))
    job.on_progress(Progress(layers[2], "extracting", 3_100_000, 3_100_000))
    job.on_progress(Progress(layers[3], "waiting", 0, 14_600_000))
    assert panel.total.value() == job.layers.percent == 30  # 14.65 of 47.65 MB
    assert panel.bytes.text() == f"{human_size(14_650_000)} of {human_size(47_650_000)}"
    screenshot(panel, "pull-progress-sample")
    job.set_phase("creating")
    assert panel.title.text().startswith("Creating")
    job.failed.emit("Could not create a container from x: no space left.")
    job.set_phase("failed")
    assert panel.error.text().endswith("no space left.") and panel.dismiss.isVisible()
