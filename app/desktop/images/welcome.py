"""The page shown when no container is selected: on a first run, the ways to a first image.

A first run has no images, and Docker Hub may not answer (no network, a proxy),
so the page names every way that works offline as well: import an archive,
build from a folder, pull from a registry that answers, or search Docker Hub.
Each is one click. With images but no container yet, it offers to run a first one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["WelcomeView"]

FIRST_RUN = (
    "Welcome to Skiff.\n\n"
    "A container runs from an image, and you have none yet. Get a first one:\n"
    "• Import an image file (made by `docker save` or `skiff save`): works offline.\n"
    "• Build one from a folder with a Dockerfile: works offline when its base image is "
    "here (FROM scratch always is).\n"
    "• Pull from a registry you can reach (your company's, or one on this machine).\n"
    "• Search Docker Hub, when this computer is online.")
NO_CONTAINERS = ("Welcome to Skiff.\n\nPress + New to pick an image and make your first "
                 "container, or let Skiff run one from the newest image here: you will see "
                 "its logs and what it is made of.")
PICK = "Pick a container on the left, or press + New."


class WelcomeView(QWidget):
    import_requested = Signal()
    registry_requested = Signal()
    hub_requested = Signal()
    build_requested = Signal()
    run_requested = Signal()  # run a first container from an image that is here

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Welcome")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.message.setAccessibleName("Welcome message")
        self.message.setMaximumWidth(560)
        self.import_button = QPushButton("Import Image File…", self)
        self.import_button.setAccessibleName("Import an image from a file")
        self.import_button.clicked.connect(self.import_requested.emit)
        self.registry_button = QPushButton("Pull from a Registry…", self)
        self.registry_button.setAccessibleName("Add a registry and pull from it")
        self.registry_button.clicked.connect(self.registry_requested.emit)
        self.hub_button = QPushButton("Search Docker Hub", self)
        self.hub_button.setAccessibleName("Search Docker Hub")
        self.hub_button.clicked.connect(self.hub_requested.emit)
        self.build_button = QPushButton("Build from a Folder…", self)
        self.build_button.setAccessibleName("Build an image from a folder")
        self.build_button.clicked.connect(self.build_requested.emit)
        self.run_button = QPushButton("Run Your First Container", self)
        self.run_button.setAccessibleName("Run a first container")
        self.run_button.clicked.connect(self.run_requested.emit)
        self.run_button.hide()
        self.buttons = QWidget(self)
        row = QHBoxLayout(self.buttons)
        row.setContentsMargins(0, 0, 0, 0)
        for button in (self.import_button, self.build_button, self.registry_button,
                       self.hub_button):
            row.addWidget(button)
        row.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(self.message)
        column.addSpacing(12)
        column.addWidget(self.buttons)
        column.addWidget(self.run_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addStretch(2)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column)
        outer.addStretch(1)
        self.set_text("Starting the engine…")

    def text(self) -> str:
        return self.message.text()

    def set_text(self, text: str, first_run: bool = False) -> None:
        """``first_run``: no images yet, so offer the ways to get one."""
        self.message.setText(text)
        self.buttons.setVisible(first_run)
        self.run_button.setVisible(text == NO_CONTAINERS)
