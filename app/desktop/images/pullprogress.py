"""One container being made: the pull's layers and total, then creating and starting.

Shows the job's phases, per-layer bars, the total in bytes and percent, and a
Cancel button; a failure stays visible with its sentence until dismissed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.containers.createjob import CreateJob
from app.desktop.containers.pullmodel import PullModel
from app.desktop.images.progressdelegate import ProgressDelegate
from engine import human_size

__all__ = ["PullProgress"]

_PHASES = {"downloading": "Downloading", "creating": "Creating", "starting": "Starting",
           "done": "Started", "failed": "Failed", "cancelled": "Cancelled"}


class PullProgress(QFrame):
    finished = Signal()  # the panel may go away

    def __init__(self, job: CreateJob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(f"Progress of {job.name}")
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setAccessibleName("Download")
        self.total = QProgressBar(self)
        self.total.setRange(0, 0)
        self.total.setAccessibleName("Total progress")
        self.bytes = QLabel(self)
        self.bytes.setAccessibleName("Downloaded bytes")
        self.bytes.setMinimumWidth(self.bytes.fontMetrics().horizontalAdvance(
            "999 MB of 999 MB"))
        self.cancel = QPushButton("Cancel", self)
        self.cancel.setAccessibleName(f"Cancel making {job.name}")
        self.cancel.clicked.connect(job.cancel)
        self.dismiss = QPushButton("Dismiss", self)
        self.dismiss.setAccessibleName("Dismiss")
        self.dismiss.clicked.connect(self.finished.emit)
        self.dismiss.hide()
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("QLabel { color: #d9534f; }")
        self.error.setAccessibleName("Error")
        self.error.hide()
        self.layers = QTableView(self)
        self.layers.setModel(job.layers)
        self.layers.setAccessibleName("Layers")
        self.layers.setItemDelegateForColumn(2, ProgressDelegate(PullModel.FractionRole,
                                                                 self.layers))
        self.layers.verticalHeader().hide()
        self.layers.setShowGrid(False)
        self.layers.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.layers.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.layers.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        job.layers.rowsInserted.connect(self._fit_layers)
        self._fit_layers()

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.cancel)
        top.addWidget(self.dismiss)
        totals = QHBoxLayout()
        totals.addWidget(self.total, 1)
        totals.addWidget(self.bytes)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(totals)
        layout.addWidget(self.error)
        layout.addWidget(self.layers, 1)
        job.progressed.connect(self._update)
        job.phase_changed.connect(self._on_job_phase_changed)
        job.failed.connect(self._on_job_failed)
        self._update()

    def _fit_layers(self) -> None:
        """As tall as its rows (two to six), so the image list keeps the room."""
        rows = min(6, max(2, self.job.layers.rowCount()))
        height = self.layers.horizontalHeader().sizeHint().height() + \
            rows * self.layers.verticalHeader().defaultSectionSize() + 4
        self.layers.setFixedHeight(height)

    def _update(self) -> None:
        job = self.job
        model = job.layers
        phase = "Unpacking" if job.phase == "downloading" and model.unpacking else \
            _PHASES.get(job.phase, job.phase.capitalize())
        self.title.setText(f"{phase} {job.ref} → {job.name}")
        percent = model.percent
        if job.phase == "downloading":
            if percent is None:
                self.total.setRange(0, 0)
            else:
                self.total.setRange(0, 100)
                self.total.setValue(percent)
            total = model.total_size
            self.bytes.setText(f"{human_size(model.total_current)} of {human_size(total)}"
                               if total else "")
        elif job.phase in ("creating", "starting"):
            self.total.setRange(0, 0)
            self.bytes.setText("")
        else:
            self.total.setRange(0, 100)
            self.total.setValue(100 if job.phase == "done" else self.total.value())
        self.layers.setVisible(model.rowCount() > 0 or job.phase == "downloading")

    def _on_job_phase_changed(self, phase: str) -> None:
        self._update()
        if phase in ("done", "failed", "cancelled"):
            self.cancel.hide()
            self.dismiss.show()
        if phase in ("done", "cancelled"):
            QTimer.singleShot(4000, self.finished.emit)

    def _on_job_failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
