"""Widgets fed with plain data: what they show and what they ask for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QToolButton, QWidget

from app.desktop.containers.actions import ContainerActions
from app.desktop.containers.createjob import CreateJob
from app.desktop.containers.header import ContainerHeader
from app.desktop.containers.model import ContainerModel
from app.desktop.containers.sidebar import Sidebar
from app.desktop.images.pullprogress import PullProgress
from app.desktop.inspect.data import MountRow, PortRow
from app.desktop.inspect.portstab import PortsView
from app.desktop.inspect.volumestab import VolumesView
from app.desktop.settings.view import SettingsView
from app.desktop.widgets.messagebar import MessageBar
from engine.containers.state import Status
from engine.registry.model import PullProgress as Progress
from engine.units import human_size
from tests.app.desktop.conftest import screenshot
from tests.app.desktop.samples import container, fleet


def test_sidebar_filter_select_and_delete_key(qtbot: Any) -> None:
    model = ContainerModel()
    sidebar = Sidebar(model)
    qtbot.addWidget(sidebar)
    sidebar.show()
    assert sidebar.empty.isVisible()
    model.sync(fleet())
    assert not sidebar.empty.isVisible()
    keys: list[str] = []
    sidebar.current_changed.connect(keys.append)
    assert sidebar.select(fleet()[3].id)
    assert keys[-1] == fleet()[3].id and sidebar.current_key() == fleet()[3].id
    sidebar.filter.setText("web")
    assert sidebar.proxy.rowCount() == 1
    with qtbot.waitSignal(sidebar.remove_requested):
        sidebar.view.setFocus()
        QTest.keyClick(sidebar.view, Qt.Key.Key_Delete)


def test_actions_follow_the_state(qtbot: Any) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    actions = ContainerActions(window)
    header = ContainerHeader(actions, window)
    actions.update_for(None)
    assert not any(a.isEnabled() for a in actions.all())
    running = container("web")
    actions.update_for(running)
    header.set_container(running)
    assert (actions.stop.isEnabled(), actions.in_header("start"), actions.in_header("stop")) == (
        True, False, True)
    assert not header.buttons["start"].isVisibleTo(header)
    assert header.buttons["stop"].isVisibleTo(header)
    # The menu lists both, whatever the state: a hidden action is missing from menus.
    assert actions.start.isVisible() and actions.stop.isVisible()
    assert actions.pause.isEnabled() and actions.restart.isEnabled()
    assert not actions.exec.isEnabled()  # no terminal tab yet
    actions.terminal_available = True
    actions.update_for(running)
    assert actions.exec.isEnabled()
    assert header.name.text() == "web" and header.badge.text() == "Running"
    paused = container("web", Status.PAUSED)
    actions.update_for(paused)
    assert actions.in_header("unpause") and actions.unpause.isEnabled()
    assert not actions.in_header("pause") and not actions.exec.isEnabled()
    assert not header.buttons["pause"].isVisibleTo(header)
    exited = container("web", Status.EXITED, exit_code=3)
    actions.update_for(exited)
    header.set_container(exited)
    assert actions.start.isEnabled() and not actions.in_header("stop")
    assert actions.stop.isVisible() and not actions.stop.isEnabled()
    assert not actions.pause.isEnabled() and actions.remove.isEnabled()
    assert header.badge.text() == "Exited (3)"
    assert "Ctrl+Shift+S" in actions.start.toolTip()


def test_ports_and_volumes_tabs(qtbot: Any, tmp_path: Path) -> None:
    ports = PortsView()
    qtbot.addWidget(ports)
    ports.open_requested.disconnect()  # no real browser in tests
    opened: list[str] = []
    ports.open_requested.connect(opened.append)
    ports.set_ports([PortRow("80/tcp", "0.0.0.0", "8080", "http://localhost:8080"),
                     PortRow("53/udp", "", "5353", "")])
    assert [b.text() for b in ports.links] == ["Open http://localhost:8080"]
    ports.links[0].click()
    assert opened == ["http://localhost:8080"]
    volumes = VolumesView()
    qtbot.addWidget(volumes)
    volumes.open_requested.disconnect()
    folders: list[str] = []
    volumes.open_requested.connect(folders.append)
    volumes.set_mounts([MountRow("bind", str(tmp_path), "/data", False),
                        MountRow("volume", "cache", "/cache", True)])
    assert [b.isEnabled() for b in volumes.buttons] == [True, False]
    volumes.buttons[0].click()
    assert folders == [str(tmp_path)]


class UrlCatcher(QObject):
    """A desktop that opens URLs, through Qt's own hook for URL handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def catch(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_links_go_to_the_desktop_or_the_clipboard_never_nowhere(qtbot: Any,
                                                                tmp_path: Path) -> None:
    ports = PortsView()
    volumes = VolumesView()
    for view in (ports, volumes):
        qtbot.addWidget(view)
    failures: list[str] = []
    ports.failed.connect(failures.append)
    volumes.failed.connect(failures.append)
    ports.set_ports([PortRow("80/tcp", "0.0.0.0", "8080", "http://localhost:8080")])
    volumes.set_mounts([MountRow("bind", str(tmp_path), "/data", False)])
    catcher = UrlCatcher()
    for scheme in ("http", "file"):
        QDesktopServices.setUrlHandler(scheme, catcher, "catch")
    try:
        ports.links[0].click()
        volumes.buttons[0].click()
    finally:
        for scheme in ("http", "file"):
            QDesktopServices.unsetUrlHandler(scheme)
    assert catcher.urls == ["http://localhost:8080", QUrl.fromLocalFile(str(tmp_path)).toString()]
    assert failures == []
    # Offscreen there is no desktop to hand them to: said in the window, and copied.
    ports.links[0].click()
    assert failures == ["No web browser opened http://localhost:8080. The address is on the "
                        "clipboard: paste it into a browser."]
    assert QGuiApplication.clipboard().text() == "http://localhost:8080"
    volumes.buttons[0].click()
    assert failures[1].startswith(f"No file manager opened {tmp_path}.")
    assert QGuiApplication.clipboard().text() == str(tmp_path)


def test_log_shortcuts_work_only_while_the_logs_tab_shows(qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QTabWidget

    from app.desktop.logs.view import LogView

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    logs = LogView()
    settings = QWidget()
    tabs.addTab(logs, "Logs")
    tabs.addTab(settings, "Settings")
    tabs.show()
    qtbot.waitExposed(tabs)
    assert logs.a_save.isEnabled() and logs.a_find.isEnabled()
    tabs.setCurrentWidget(settings)
    assert not logs.a_save.isEnabled() and not logs.a_find.isEnabled()
    tabs.setCurrentWidget(logs)  # (a disabled action's shortcut never fires)
    assert logs.a_save.isEnabled()
    labels = {b.text() for b in logs.findChildren(QToolButton) if b.text()}
    assert labels == {"◀", "▶", "Jump to…", "Copy", "Save…", "Clear"}  # short, as laid out


def test_settings_confirm_then_recreate(qtbot: Any) -> None:
    view = SettingsView()
    qtbot.addWidget(view)
    view.show()
    web = container("web", env=["MODE=dev"])
    view.set_container(web)
    assert view.env.rows() == [["MODE", "dev"]]
    view.env.set_value(0, 1, "prod")
    view.memory.setText("64m")
    saved: list[tuple[Any, ...]] = []
    view.save_requested.connect(lambda c, config, name: saved.append((c, config, name)))
    view.save.click()
    box = view.findChild(QMessageBox, "confirm")
    assert box is not None and box.isVisible()
    assert "recreates web" in box.text()
    assert "Files written inside the container (not in volumes) will be lost" in \
        box.informativeText()
    recreate = next(b for b in box.buttons() if b.text() == "Recreate")
    recreate.click()
    assert len(saved) == 1
    _container, config, name = saved[0]
    assert config.env == ["MODE=prod"] and config.resources.memory == 64 * 1024 * 1024
    assert name == "web"
    view.set_container(container("web", env=["MODE=dev"]))  # same container: edits stay
    assert view.env.rows() == [["MODE", "prod"]]
    view.name.setText("api")  # renamed as well: the warning says the new name
    view.save.click()
    box = [b for b in view.findChildren(QMessageBox, "confirm") if b.isVisible()][-1]
    assert "makes a new one named api and these settings" in box.informativeText()
    box.reject()


def test_settings_offer_the_engines_networks_when_opened(qtbot: Any) -> None:
    view = SettingsView()
    qtbot.addWidget(view)
    view.show()
    view.set_container(container("web"))
    wanted: list[bool] = []
    view.networks_wanted.connect(lambda: wanted.append(True))
    view.network.setCurrentText("typed-by-hand")
    view.network.showPopup()
    assert wanted == [True]
    view.set_networks(["bridge", "host", "none", "backend", "app-net"])
    view.network.hidePopup()
    items = [view.network.itemText(i) for i in range(view.network.count())]
    assert items == ["bridge", "host", "none", "app-net", "backend"]
    assert view.network.currentText() == "typed-by-hand"


def test_settings_errors_and_rename(qtbot: Any) -> None:
    view = SettingsView()
    qtbot.addWidget(view)
    view.set_container(container("web"))
    view.ports.add_row(["eighty", "tcp", "", ""])
    view.save.click()
    assert "Cannot save" in view.error.text() and "'eighty'" in view.error.text()
    view.reload()
    renamed: list[str] = []
    view.rename_requested.connect(lambda _c, name: renamed.append(name))
    view.name.setText("web-2")
    view.rename.click()
    view.save.click()  # only the name changed: a rename, no recreate
    assert renamed == ["web-2", "web-2"]
    view.use_folder("/srv/data")
    assert view.volumes.rows() == [["/srv/data", "/data", False]]


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


def test_message_bar(qtbot: Any) -> None:
    bar = MessageBar()
    qtbot.addWidget(bar)
    bar.show_error("Could not start web: port 80 is taken.")
    bar.show_error("Could not start web: port 80 is taken.")
    assert bar.messages() == ["Could not start web: port 80 is taken."]
    for i in range(6):
        bar.show_error(f"message {i}")
    assert len(bar.messages()) == 4
    bar.clear()
    assert bar.messages() == []


def test_inspect_tree_copies_json(qtbot: Any) -> None:
    import json

    from app.desktop.inspect.view import InspectView

    view = InspectView()
    qtbot.addWidget(view)
    document = {"Id": "abc", "State": {"Status": "running", "Pid": 42}, "Args": ["-c", "x"]}
    view.set_document(document)
    state = view.model.index(1, 0)
    assert view.tree.isExpanded(state)  # State starts open
    assert json.loads(view.copy_json()) == document
    view.tree.setCurrentIndex(state)
    assert json.loads(view.copy_json()) == {"Status": "running", "Pid": 42}
    view.tree.collapse(state)
    view.tree.expand(view.model.index(2, 0))
    view.set_document({**document, "State": {"Status": "exited", "Pid": 0}})
    assert view.tree.isExpanded(view.model.index(2, 0))  # what the user opened stays open
    assert not view.tree.isExpanded(view.model.index(1, 0))


def test_registry_dialog(qtbot: Any) -> None:
    from app.desktop.images.registrydialog import RegistryDialog, check_registry

    assert check_registry("https://127.0.0.1:5000/") == "127.0.0.1:5000"
    assert check_registry("registry.example.com") == "registry.example.com"
    assert check_registry("not a host") == ""
    dialog = RegistryDialog()
    qtbot.addWidget(dialog)
    chosen: list[tuple[str, str, str]] = []
    dialog.chosen.connect(lambda *args: chosen.append(args))
    dialog.address.setText("bad host")
    dialog._on_ok()
    assert chosen == [] and "host name" in dialog.problem.text()
    dialog.address.setText("127.0.0.1:5000")
    dialog.username.setText("me")
    dialog._on_ok()
    assert chosen == [] and "password" in dialog.problem.text()
    dialog.password.setText("secret")
    dialog._on_ok()
    assert chosen == [("127.0.0.1:5000", "me", "secret")]
