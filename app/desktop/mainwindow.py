"""The main window: the frame (frame.py) with its plug-ins put in.

The plug-ins are given the frame, not this class, so none of them imports the
window: the Terminal, Stats, Files and What Is This? tabs, exit notifications and
the command bar (plugins.py), the pages for images, volumes, networks and disk usage
(manage.py), compose projects (projects/).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.desktop.bridge import Bridge
from app.desktop.frame import Frame
from app.desktop.manage import install as install_pages
from app.desktop.plugins import install as install_plugins
from app.desktop.projects.controller import install as install_projects
from app.desktop.utils.prefs import AppSettings

__all__ = ["MainWindow"]


class MainWindow(Frame):
    def __init__(self, bridge: Bridge, settings: AppSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(bridge, settings, parent)
        # Terminal, Stats, Files, What Is This?, exit notifications, show commands.
        self.plugins = install_plugins(self)
        # Images, Volumes, Networks, Disk usage, the network map.
        self.manage = install_pages(self, self.plugins)
        self.projects = install_projects(self, self.plugins)  # compose projects
        self.restore()
        self.resize_default()

    def page_held(self) -> bool:
        manage = getattr(self, "manage", None)  # None while the plug-ins go in
        return manage is not None and manage.holds_page()
