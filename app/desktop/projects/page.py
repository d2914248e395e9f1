"""A compose project's page: its status and containers, its actions (Up, Start, Stop,
Restart, Down), what each action did (Compose's progress lines) and its logs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ACTIONS", "ProjectPage"]

#: verb, button text, tooltip
ACTIONS = (("up", "Up", "Create what is missing or changed, then start it all "
            "(skiff compose up -d)"),
           ("start", "Start", "Start the stopped containers, dependencies first"),
           ("stop", "Stop", "Stop the containers, dependants first"),
           ("restart", "Restart", "Restart the containers"),
           ("down", "Down…", "Stop and remove the containers and the project's networks"))


class ProjectPage(QWidget):
    """Made when a project first shows (projects/controller.py)."""

    action_requested = Signal(str, str)  # verb, project

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projectPage")
        self.setAccessibleName("Compose project")
        self.project = ""
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(font)
        self.title.setAccessibleName("Project name")
        self.status = QLabel(self)
        self.status.setAccessibleName("Project status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for verb, text, tip in ACTIONS:
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.setAccessibleName(f"{text.rstrip('…')} project")
            button.clicked.connect(lambda _c=False, v=verb: self.action_requested.emit(
                v, self.project))
            row.addWidget(button)
            self.buttons[verb] = button
        row.addStretch(1)
        self.progress = QPlainTextEdit(self)
        self.progress.setReadOnly(True)
        self.progress.setAccessibleName("Project progress")
        self.progress.setPlaceholderText("What Up, Start, Stop, Restart and Down do shows here.")
        self.progress.setMaximumBlockCount(500)
        # Here, not at the top: the window imports this module for ACTIONS at launch.
        from app.desktop.projects.logview import ProjectLogView

        self.logs = ProjectLogView(self)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.progress)
        split.addWidget(self.logs)
        split.setSizes([140, 460])
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addLayout(row)
        layout.addWidget(split, 1)

    def show_project(self, name: str, status: str, can_up: bool) -> None:
        if name != self.project:
            self.progress.clear()
            self.logs.clear()
        self.project = name
        self.title.setText(name)
        self.status.setText(status)
        self.buttons["up"].setEnabled(can_up)
        self.buttons["up"].setToolTip(ACTIONS[0][2] if can_up else
                                      "Its compose file is not known here: open it with "
                                      "File > Open Compose File…")

    def add_progress(self, line: str) -> None:
        self.progress.appendPlainText(line)
