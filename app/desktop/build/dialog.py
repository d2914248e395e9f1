"""The Build Image… dialog: a folder, its Dockerfile, a tag and build args; then the build's
output as it comes beside its layers, drawn growing step by step (app/desktop/build/
stack.py), and Run for the result."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.build.job import BuildJob, BuildRequest, StepRow
from app.desktop.build.stack import BuildStack
from app.desktop.build.stripmodel import LayerStripModel
from app.desktop.containers.createjob import create_container

__all__ = ["BuildDialog", "parse_build_args"]

MAX_OUTPUT_LINES = 20000


def parse_build_args(text: str) -> tuple[tuple[str, str], ...]:
    """``K=V`` lines (blank lines and ``#`` comments skipped); raises ValueError."""
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"build argument on line {number} is not NAME=value: {line}")
        pairs.append((key.strip(), value))
    return tuple(pairs)


class BuildDialog(QDialog):
    built = Signal(str)  # image ID

    def __init__(self, bridge: Bridge, parent: QWidget | None = None,
                 folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Build Image")
        self.setAccessibleName("Build image")
        self.bridge = bridge
        self.job: BuildJob | None = None

        self.folder = QLineEdit(folder, self)
        self.folder.setAccessibleName("Build context folder")
        self.folder.setPlaceholderText("the folder with the Dockerfile and the files it copies, "
                                       "or a git repository's or a URL's address")
        self.choose = QPushButton("Choose…", self)
        self.choose.setAccessibleName("Choose the folder")
        self.choose.clicked.connect(self.ask_folder)
        self.dockerfile = QLineEdit("Dockerfile", self)
        self.dockerfile.setAccessibleName("Dockerfile")
        self.tag = QLineEdit(self)
        self.tag.setAccessibleName("Tag")
        self.tag.setPlaceholderText("myapp:latest (optional)")
        self.args = QPlainTextEdit(self)
        self.args.setAccessibleName("Build arguments")
        self.args.setPlaceholderText("NAME=value, one a line")
        self.args.setFixedHeight(60)
        self.no_cache = QCheckBox("Build every step again (no cache)", self)

        self.strip_model = LayerStripModel(self)
        self.strip = BuildStack(self.strip_model, self)  # the layers, drawn as they grow

        self.output = QPlainTextEdit(self)
        self.output.setAccessibleName("Build output")
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(MAX_OUTPUT_LINES)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel("", self)
        self.status.setAccessibleName("Build status")
        self.status.setWordWrap(True)

        self.build_button = QPushButton("Build", self)
        self.build_button.setDefault(True)
        self.build_button.clicked.connect(self.start_build)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_build)
        self.run_button = QPushButton("Run", self)
        self.run_button.setAccessibleName("Run a container of the built image")
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_result)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)

        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(self.choose)
        form = QFormLayout()
        form.addRow("&Folder:", where)
        form.addRow("&Dockerfile:", self.dockerfile)
        form.addRow("&Tag:", self.tag)
        form.addRow("Build &args:", self.args)
        form.addRow("", self.no_cache)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.build_button, self.stop_button, self.run_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.strip)
        split.addWidget(self.output)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 620])
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.resize(980, 660)

    def ask_folder(self) -> QFileDialog:
        dialog = QFileDialog(self, "Build context folder", self.folder.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()
        return dialog

    def request(self) -> BuildRequest:
        """What the form asks for; raises ValueError with a sentence for the user."""
        from engine import is_remote_context

        text = self.folder.text().strip()
        if is_remote_context(text):  # a git repository or a URL: fetched by the build
            return BuildRequest(text, self.dockerfile.text().strip() or "Dockerfile",
                                self.tag.text().strip(),
                                parse_build_args(self.args.toPlainText()),
                                self.no_cache.isChecked())
        folder = Path(text).expanduser()
        if not self.folder.text().strip() or not folder.is_dir():
            raise ValueError("Choose the folder to build: it holds the Dockerfile and the "
                             "files it copies.")
        dockerfile = self.dockerfile.text().strip() or "Dockerfile"
        if not (folder / dockerfile).is_file():
            raise ValueError(f"There is no {dockerfile} in {folder}.")
        return BuildRequest(folder, dockerfile, self.tag.text().strip(),
                            parse_build_args(self.args.toPlainText()),
                            self.no_cache.isChecked())

    def start_build(self) -> BuildJob | None:
        try:
            request = self.request()
        except ValueError as exc:
            self.status.setText(str(exc))
            return None
        self.output.clear()
        self.strip_model.clear()
        self.run_button.setEnabled(False)
        self.status.setText("Building…")
        job = BuildJob(self.bridge, request, self)
        job.output.connect(self._on_job_output)
        job.step_started.connect(self._on_job_step_started)
        job.step_done.connect(self._on_job_step_done)
        job.finished.connect(self._on_job_finished)
        job.failed.connect(self._on_job_failed)
        self.job = job
        self._set_running(True)
        job.start()
        return job

    def stop_build(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopped.")
            self._set_running(False)

    def run_result(self) -> None:
        if self.job is None or not self.job.image_id:
            return
        ref = self.job.request.tag or self.job.image_id
        create_container(self.bridge, ref, pull=False)
        self.accept()

    def reject(self) -> None:
        self.stop_build()  # closing the window stops the build (its container is removed)
        super().reject()

    def _set_running(self, running: bool) -> None:
        self.build_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for widget in (self.folder, self.choose, self.dockerfile, self.tag, self.args,
                       self.no_cache):
            widget.setEnabled(not running)

    def _on_job_output(self, text: str) -> None:
        cursor = self.output.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self.output.setTextCursor(cursor)
        self.output.ensureCursorVisible()

    def _on_job_step_started(self, step: int, total: int, instruction: str) -> None:
        self.status.setText(f"Step {step}/{total}: {instruction}")

    def _on_job_step_done(self, row: StepRow) -> None:
        self.strip_model.add(row)

    def _on_job_finished(self, image_id: str) -> None:
        self._set_running(False)
        self.run_button.setEnabled(True)
        name = self.job.request.tag if self.job is not None else ""
        self.status.setText(f"Built {name or image_id[7:19]}.")
        self.built.emit(image_id)
        self.bridge.refresh_images()

    def _on_job_failed(self, message: str) -> None:
        self._set_running(False)
        self.status.setText(message)
