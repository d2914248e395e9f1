"""Compose projects in the window: File > Open Compose File… (and a compose file dropped on
the window), the project page for a project's header row in the sidebar, its actions run
through the engine's compose runner, its logs followed, and Show Commands' ``skiff compose``
line for each action.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QCheckBox, QMenu

from app.desktop.containers.projectrows import project_of_key
from app.desktop.projects.page import ACTIONS
from app.desktop.widgets.confirm import ask
from engine import Container

if TYPE_CHECKING:
    from PySide6.QtWidgets import QFileDialog

    from app.desktop.frame import Frame
    from app.desktop.plugins import Plugins
    from app.desktop.projects.logview import LogLine
    from app.desktop.projects.page import ProjectPage
    from engine import Project

__all__ = ["Projects", "install"]

COMPOSE_SUFFIXES = (".yaml", ".yml")
TAIL = 200


class Projects(QObject):
    def __init__(self, window: Frame, plugins: Plugins) -> None:
        super().__init__(window)
        self.window = window
        self.commands = plugins.commands
        self._page: ProjectPage | None = None  # made when a project first shows
        self._opened: dict[str, Project] = {}  # projects opened from a file here
        self._known: dict[str, Project] = {}  # as last loaded, while its page shows
        self._followers: dict[str, tuple[str, asyncio.Task[Any] | None]] = {}  # id: start
        self._pending: list[LogLine] = []
        self._flush = QTimer(self)
        self._flush.setInterval(100)
        self._flush.timeout.connect(self._on_flush_timeout)
        self._add_menu()
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        window.sidebar.current_changed.connect(self._on_sidebar_current_changed)
        # after the Go bar's own handler, which shows the containers' page on a click
        window.sidebar.view.clicked.connect(lambda _index: self._on_sidebar_current_changed(
            window.sidebar.current_key()))
        self.actions: dict[str, QAction] = {}
        for verb, text, tip in ACTIONS:
            action = QAction(text, window)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _c=False, v=verb: self.act(
                v, project_of_key(window.sidebar.current_key())))
            self.actions[verb] = action
        window.sidebar.set_project_actions(list(self.actions.values()))
        # Delete on a project's row asks to take it down, as on a container's it asks to remove
        window.sidebar.remove_requested.connect(lambda: self.act(
            "down", project_of_key(window.sidebar.current_key())))
        window.bridge.containers_changed.connect(self._on_containers_changed)
        window.bridge.containers_listed.connect(self._on_containers_changed)
        window.closed.connect(self._stop_logs)
        window.pages.currentChanged.connect(self._on_pages_current_changed)

    def _add_menu(self) -> None:
        self.a_open = QAction("Open &Compose File…", self.window)
        self.a_open.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.a_open.setStatusTip("Bring up a multi-container application from its compose file")
        self.a_open.triggered.connect(self.ask_open)
        self.window.addAction(self.a_open)
        for menu in self.window.menuBar().findChildren(QMenu):
            if menu.title().replace("&", "") == "File":
                after_new = menu.actions()[1:2]  # right after New Container
                if after_new:
                    menu.insertAction(after_new[0], self.a_open)
                else:
                    menu.addAction(self.a_open)

    # -- opening a file ------------------------------------------------------------------

    def ask_open(self) -> QFileDialog:
        from PySide6.QtWidgets import QFileDialog  # Qt's class, when one opens (as LogView)

        dialog = QFileDialog(self.window, "Open Compose File", str(Path.home()),
                             "Compose files (*.yaml *.yml);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.open_file(Path(path)))
        dialog.open()
        return dialog

    def open_file(self, path: Path) -> Project | None:
        """Load the file and show the services it makes; Up brings them up."""
        from engine import LoadOptions, load_project  # (the compose modules: when used)

        try:
            project = load_project(LoadOptions(files=[path], workdir=path.parent))
        except Exception as exc:  # the file's mistake, as `skiff compose config` says it
            self.window.messages.show_error(f"{path.name}: {exc}")
            return None
        self._opened[project.name] = project
        self.commands.record(shlex.join(["skiff", "compose", "-f", str(path), "config",
                                         "--services"]))
        self.show(project.name)
        self.page.add_progress(f"{path}: services {', '.join(project.order())} "
                               f"(press Up to create and start them)")
        return project

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QDragEnterEvent) and self._dropped(event):
            event.acceptProposedAction()
            return True
        if isinstance(event, QDropEvent) and self._dropped(event):
            self.open_file(self._dropped(event)[0])
            event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _dropped(event: QDropEvent | QDragEnterEvent) -> list[Path]:
        data = event.mimeData()
        return [Path(url.toLocalFile()) for url in data.urls()
                if url.isLocalFile() and url.toLocalFile().endswith(COMPOSE_SUFFIXES)] \
            if data.hasUrls() else []

    # -- the page ----------------------------------------------------------------------

    @property
    def page(self) -> ProjectPage:
        """The project page, made when first needed: its log view (and what that imports)
        was ~20 M instructions on a launch's way to its first paint."""
        if self._page is None:
            from app.desktop.projects.page import ProjectPage

            self._page = ProjectPage(self.window.pages)
            self.window.pages.addWidget(self._page)
            self._page.action_requested.connect(self.act)
            self._page.logs.message.connect(
                lambda text: self.window.statusBar().showMessage(text, 8000))
        return self._page

    def project(self, name: str, again: bool = False) -> Project:
        """The project with its files when they are known (opened here, or named by its
        containers' labels and still there), else the one its labels make; loaded once
        while its page shows, ``again`` to read its files anew."""
        if name in self._opened:
            return self._opened[name]
        if name in self._known and not again:
            return self._known[name]
        self._known = {name: self._load(name)}
        return self._known[name]

    def _load(self, name: str) -> Project:
        from engine import LoadOptions, Project, load_project

        members = self.window.containers.members(name)
        labels = members[0].config.labels if members else {}
        files = [Path(f) for f in labels.get("com.docker.compose.project.config_files",
                                              "").split(",") if f]
        directory = Path(labels.get("com.docker.compose.project.working_dir", "") or ".")
        if files and all(f.is_file() for f in files):
            try:
                return load_project(LoadOptions(files=files, project_name=name,
                                                project_directory=directory,
                                                workdir=directory))
            except Exception:
                pass  # changed since: what its labels say still works
        return Project.labelled(name, {})

    def show(self, name: str) -> None:
        project = self.project(name, again=name != self.page.project)
        members = self.window.containers.members(name)
        running = sum(1 for c in members if c.state.running)
        where = ", ".join(str(f) for f in project.files) or "compose file not known here"
        services = ", ".join(project.order()) if project.services else \
            ", ".join(sorted({c.config.labels.get("com.docker.compose.service", "")
                              for c in members}))
        fresh = name != self.page.project
        self.page.show_project(name, f"{running} of {len(members)} containers running · "
                               f"services: {services}\n{where}", bool(project.files))
        self.window.pages.setCurrentWidget(self.page)
        self._follow(members, fresh)

    def _on_sidebar_current_changed(self, key: str) -> None:
        name = project_of_key(key)
        if name:
            self.show(name)

    def _on_pages_current_changed(self, _index: int) -> None:
        if self.window.pages.currentWidget() is not self._page:
            self._stop_logs()  # followed again (from its last lines) when it shows again

    def _on_containers_changed(self, _containers: list[Container]) -> None:
        page = self._page
        if page is not None and self.window.pages.currentWidget() is page and page.project:
            self.show(page.project)

    # -- actions ------------------------------------------------------------------------

    def command(self, verb: str, project: Project, volumes: bool = False) -> str:
        where = ["-f", str(project.files[0])] if len(project.files) == 1 else \
            [arg for f in project.files for arg in ("-f", str(f))] or ["-p", project.name]
        extra = {"up": ["-d"], "down": ["-v"] if volumes else []}.get(verb, [])
        return shlex.join(["skiff", "compose", *where, verb, *extra])

    def act(self, verb: str, name: str) -> None:
        if not name:
            return
        if verb == "down":
            box = ask(self.window, "Take the project down?", f"Stop and remove the "
                      f"containers and networks of {name}?", "Down",
                      lambda: self.run(verb, name, volumes=check.isChecked()),
                      informative="Their files (except those in volumes) and logs are "
                      "deleted.")
            check = QCheckBox("Remove the project's volumes too (their data is lost)", box)
            check.setAccessibleName("Remove volumes")
            box.setCheckBox(check)
            return
        self.run(verb, name)

    def run(self, verb: str, name: str, volumes: bool = False) -> None:
        project = self.project(name, again=True)  # its files as they are now
        self.commands.record(self.command(verb, project, volumes))
        page = self.page

        def progress(kind: str, target: str, what: str) -> None:
            if page.project == name:
                page.add_progress(what if kind == "Warning" else f"{kind} {target}  {what}")

        async def call(engine: Any) -> None:
            from engine import Runner, UpOptions

            runner = Runner(engine, project, progress)
            if verb == "up":
                await runner.report_health([c.config.labels.get(
                    "com.docker.compose.service", "") for c in await runner.up(UpOptions())])
            elif verb == "down":
                await runner.down(volumes=volumes)
            else:
                await getattr(runner, verb)()

        self.window.bridge.submit(f"{verb} project {name}", call,
                                  on_error=lambda text: progress("Warning", "", text))

    # -- logs ---------------------------------------------------------------------------

    def _stop_logs(self) -> None:
        for _start, task in self._followers.values():
            if task is not None:
                task.cancel()
        self._followers = {}
        self._flush.stop()

    def _follow(self, members: list[Container], fresh: bool) -> None:
        """Follow each container's log from its last lines; again whenever it (re)starts
        (a follow ends when its container stops). The view drops lines it already has."""
        if fresh:
            self._stop_logs()
            self.page.logs.clear()
        self.page.logs.set_containers([c.name for c in members])
        ids = {c.id for c in members}
        for gone in [i for i in self._followers if i not in ids]:
            task = self._followers.pop(gone)[1]
            if task is not None:
                task.cancel()
        for container in members:
            start = container.state.started_at or ""
            known = self._followers.get(container.id)
            if known is not None and known[0] == start and known[1] is not None \
                    and not known[1].done():
                continue
            if known is not None and known[1] is not None:
                known[1].cancel()
            self._followers[container.id] = (start, self._follow_one(container))
        self._flush.start()

    def _follow_one(self, container: Container) -> asyncio.Task[Any] | None:
        from app.desktop.projects.logview import LogLine  # made with the page

        async def follow(engine: Any) -> None:
            async for line in engine.containers.logs(container.id, follow=True, tail=TAIL):
                self._pending.append(LogLine(line.time, container.name,
                                             line.data.decode(errors="replace")))

        return self.window.bridge.submit(f"follow the log of {container.name}", follow,
                                         on_error=lambda _text: None)  # it went meanwhile

    def _on_flush_timeout(self) -> None:
        if self._pending:
            lines, self._pending = self._pending, []
            self.page.logs.add(lines)


def install(window: Frame, plugins: Plugins) -> Projects:
    return Projects(window, plugins)



