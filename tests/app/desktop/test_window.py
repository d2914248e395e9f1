"""The real window driving the real engine (offscreen, as root, private SKIFF_ROOT).

One story per test, the way a user would click: pull from the test registry,
create, watch it run, follow and search its logs, stop, change its settings,
start the recreated container, remove it. Skipped, with the reason, where the
engine cannot run containers here. The image browser's own stories (pulls that
fail or are cancelled, registries, imports) are in images/test_registries.py.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from app.desktop.images.browser import LOCAL
from app.desktop.main import build
from app.desktop.mainwindow import MainWindow
from engine.containers.model import Container
from engine.containers.state import Status
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import badge_of, entry_named, live_window

pytestmark = [pytest.mark.gui, pytest.mark.root]

TICKER = "i=0; while :; do echo \"tick $i ${GREETING:-nobody}\"; i=$((i+1)); sleep 0.05; done"


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


async def container_badge(window: MainWindow, name: str, predicate: Callable[[str], bool],
                          what: str, timeout: float = 30) -> Container:
    model = window.containers
    await wait_for(lambda: predicate(badge_of(window, name)), model.dataChanged,
                   model.rowsInserted, model.rowsRemoved, timeout=timeout,
                   what=f"{name} to be {what} (badge now {badge_of(window, name)!r})")
    entry = entry_named(window, name)
    assert entry is not None and entry.container is not None
    return entry.container


def click_confirm(parent: QWidget, label: str) -> QMessageBox:
    box = parent.findChild(QMessageBox, "confirm")
    assert box is not None and box.isVisible(), "no confirmation was asked"
    button = next(b for b in box.buttons() if b.text() == label)
    button.click()
    return box


def test_pull_create_follow_search_stop_edit_remove(window: MainWindow, run: Callable[..., Any],
                                                    plain_registry: Any) -> None:
    async def story() -> None:
        browser = window.browser
        # + New → the private registry's catalog → test/busybox, tag chooser.
        window.sidebar.new_button.click()
        assert window.pages.currentWidget() is browser
        browser.add_registry_source(plain_registry.host)
        name = f"{plain_registry.host}/test/busybox"
        await wait_for(lambda: browser.select_remote(name), browser.results.modelReset,
                       what=f"{name} in the catalog", timeout=60)
        await wait_for(lambda: browser.tag.isEnabled() and browser.tag.count() == 3,
                       browser.tag.model().rowsInserted, browser.tag.model().modelReset,
                       what="the tags of test/busybox")
        assert [browser.tag.itemText(i) for i in range(3)] == ["latest", "1.0", "1.1"]
        screenshot(window, "image-browser-registry")
        browser.command.setText(f"sh -c '{TICKER}'")
        shots: list[int] = []

        def on_progress() -> None:  # when a layer appears: the last layer's first state
            rows = job.layers.rowCount()
            if rows and not job.layers.complete and rows not in shots:
                shots.append(rows)
                screenshot(window, "pull-in-progress")

        browser.create_button.click()
        job = next(iter(browser.panels.values())).job
        job.progressed.connect(on_progress)
        assert job.name == "busybox"
        doubled: list[list[str]] = []  # one container must never show as two rows

        def check_rows(*_args: object) -> None:
            names = [e.name for e in window.containers.entries()]
            if len(names) != len(set(names)):
                doubled.append(names)

        for change in (window.containers.dataChanged, window.containers.rowsRemoved,
                       job.phase_changed):
            change.connect(check_rows)
        assert badge_of(window, "busybox").startswith("Downloading")
        await wait_for(lambda: job.phase == "done", job.phase_changed, timeout=120,
                       what="the pull, create and start")
        assert shots, "no pull progress was reported"
        assert job.layers.complete
        running = await container_badge(window, "busybox", lambda b: b == "Running",
                                        "running")
        assert running.config.cmd == ["sh", "-c", TICKER]
        assert window.current() is not None and window.current().name == "busybox"  # type: ignore[union-attr]
        assert window.pages.currentWidget() is window.details
        assert doubled == []

        # The image browser now lists the pulled image as used by busybox.
        window.show_browser()
        browser.set_source(LOCAL)
        await wait_for(lambda: any(r.repository.endswith("test/busybox")
                                   for r in window.images.rows()),
                       window.images.modelReset, what="the pulled image in the local list")
        row = next(r for r in window.images.rows() if r.repository.endswith("test/busybox"))
        assert window.images.users(row.image.id) == ["busybox"]
        # The pull table has a row a layer and none for the config blob, as docker lists.
        assert [layer.digest for layer in job.layers.layers()] == [
            layer.digest for layer in row.image.layers]
        assert browser.select_local(row.ref)
        screenshot(window, "image-browser")
        browser.back.click()

        # Logs follow the running container; search finds a line.
        logs = window.details.logs
        window.show_tab("logs")
        await wait_for(lambda: logs.model.rowCount() >= 40, logs.model.rowsInserted,
                       timeout=30, what="40 log lines")
        bar = logs.table.verticalScrollBar()
        assert logs.following and bar.value() == bar.maximum()
        assert logs.model.index(0, 1).data() == "tick 0 nobody"
        logs.search.setText("tick 1")
        logs.apply_search()
        await wait_for(lambda: logs.model.match_count >= 11, logs.model.search_progress,
                       what="matches of 'tick 1'")
        logs.table.setCurrentIndex(logs.model.index(0, 1))
        logs.next_match()
        assert logs.model.index(logs.table.currentIndex().row(), 1).data() == "tick 1 nobody"
        screenshot(window, "main-window")
        screenshot(logs, "log-view-live")
        logs.search.clear()
        logs.apply_search()

        # Stop: the header's button, then the badge says how it ended.
        assert window.container_actions.stop.isEnabled()
        window.details.header.buttons["stop"].click()
        stopped = await container_badge(window, "busybox", lambda b: b.startswith("Exited"),
                                        "stopped")
        assert stopped.state.status is Status.EXITED
        assert window.container_actions.start.isEnabled()

        # Settings: add GREETING, save, confirm; the recreated container starts with it.
        settings = window.details.settings
        window.show_tab("settings")
        settings.env.add_row(["GREETING", "hello"])
        steps: list[str] = []
        show = settings.show_progress

        def record(step: str) -> None:
            show(step)
            steps.append(step)
            assert settings.progress.isVisibleTo(settings) and not settings.save.isEnabled()

        settings.show_progress = record  # type: ignore[method-assign]
        settings.save.click()
        box = click_confirm(settings, "Recreate")
        assert "will be lost" in box.informativeText()
        await wait_for(lambda: (e := entry_named(window, "busybox")) is not None
                       and e.container is not None and e.container.id != stopped.id,
                       window.containers.rowsInserted, window.containers.dataChanged,
                       timeout=60, what="the recreated container")
        recreated = entry_named(window, "busybox").container
        assert "GREETING=hello" in recreated.config.env
        # The steps showed in place, and the form is usable again afterwards.
        assert steps[:3] == ["Recreating busybox…", "Creating the new busybox…",
                             "Removing the old busybox…"], steps
        assert not settings.in_progress() and settings.save.isEnabled()
        assert window.current() is not None and window.current().id == recreated.id  # type: ignore[union-attr]
        window.container_actions.start.trigger()
        await container_badge(window, "busybox", lambda b: b == "Running", "running again")
        window.show_tab("logs")
        await wait_for(lambda: logs.model.rowCount() > 0
                       and logs.model.index(0, 1).data() == "tick 0 hello",
                       logs.model.rowsInserted, logs.model.modelReset, timeout=30,
                       what="the new container's log with GREETING=hello")

        # Remove (confirmed; it is running, so it is forced).
        window.container_actions.remove.trigger()
        click_confirm(window, "Remove")
        await wait_for(lambda: entry_named(window, "busybox") is None,
                       window.containers.rowsRemoved, timeout=30, what="the removal")
        assert window.messages.messages() == []
        from engine import Engine

        async with Engine() as engine:
            assert [c.name for c in await engine.containers.list(all=True)] == []

    run(story(), timeout=300)


def test_import_names_and_refused_image_removal(window: MainWindow, run: Callable[..., Any],
                                                busybox_docker_archive: Path) -> None:
    async def story() -> None:
        browser = window.browser
        window.show_browser()
        browser.import_file(busybox_docker_archive)
        await wait_for(lambda: browser.select_local("docker.io/library/busybox:latest"),
                       window.images.modelReset, timeout=120, what="the imported image")
        browser.command.setText("sleep 600")
        first = browser.create_selected()
        assert browser.command.text() == ""  # each new container starts from the defaults
        browser.command.setText("sleep 600")
        second = browser.create_selected()
        assert first is not None and second is not None
        assert (first.name, second.name) == ("busybox", "busybox-2")
        for job in (first, second):
            def settled(job: Any = job) -> bool:
                return job.phase in ("done", "failed")

            await wait_for(settled, job.phase_changed, timeout=60, what=f"{job.name} to start")
            assert job.phase == "done", job.error
        await container_badge(window, "busybox-2", lambda b: b == "Running", "running")
        # The last one created is the one selected, though another was selected before.
        await wait_for(lambda: (c := window.current()) is not None and c.name == "busybox-2",
                       window.containers.rowsRemoved, window.containers.dataChanged,
                       what="busybox-2 to be selected")
        window.show_browser()
        browser.set_source(LOCAL)
        assert first.container is not None
        image_id = first.container.config.image_id
        await wait_for(lambda: window.images.users(image_id) == ["busybox", "busybox-2"],
                       window.images.dataChanged, window.images.modelReset,
                       what="in use by both")
        # Its other names (earlier tests pulled the same image) go first: the last name of
        # an image in use is what cannot be removed.
        from engine import Engine

        async with Engine() as engine:
            for tag in (await engine.images.get("busybox:latest")).repo_tags:
                if tag != "docker.io/library/busybox:latest":
                    await engine.images.remove(tag)
        window.bridge.refresh()
        await wait_for(lambda: [r.ref for r in window.images.rows()
                                if r.image.id == image_id] ==
                       ["docker.io/library/busybox:latest"], window.images.modelReset,
                       what="busybox:latest as the image's only name")
        assert browser.select_local("docker.io/library/busybox:latest")
        browser.remove_button.click()
        assert browser.notice.text() == (
            "busybox:latest cannot be removed: busybox and busybox-2 use it. Remove those "
            "containers first, then remove the image.")
        assert window.findChild(QMessageBox, "confirm") is None

        # A second name of the same image can go while containers use the image.
        async with Engine() as engine:
            await engine.images.tag("busybox:latest", "scratch/doomed:1")
        window.bridge.refresh()
        await wait_for(lambda: browser.select_local("docker.io/scratch/doomed:1"),
                       window.images.modelReset, what="the second tag")
        browser.remove_button.click()
        click_confirm(browser, "Remove")
        await wait_for(lambda: not any(r.ref == "docker.io/scratch/doomed:1"
                                       for r in window.images.rows()),
                       window.images.modelReset, what="the tag to go")
        assert browser.notice.text() == "Removed docker.io/scratch/doomed:1."
        assert any(r.ref == "docker.io/library/busybox:latest" for r in window.images.rows())

    run(story(), timeout=300)


def test_changes_made_elsewhere_appear(window: MainWindow, run: Callable[..., Any],
                                       busybox_image: str) -> None:
    """The CLI (another Engine) creates and starts; a crash kills: the sidebar follows."""
    async def story() -> None:
        from engine import Engine
        from engine.containers.config import ContainerConfig

        async with Engine() as other:
            image = await other.images.get(busybox_image)
            made = await other.containers.create(ContainerConfig(image=busybox_image,
                                                                 image_id=image.id,
                                                      cmd=["sleep", "600"]), "from-cli")
            await container_badge(window, "from-cli", lambda b: b == "Created", "listed")
            started = await other.containers.start(made.id)
            await container_badge(window, "from-cli", lambda b: b == "Running", "running")
            os.kill(started.state.pid, signal.SIGKILL)  # a crash nobody asked for
            await container_badge(window, "from-cli", lambda b: b == "Exited (137)",
                                  "exited by SIGKILL")

    run(story(), timeout=120)


def test_settings_offer_the_users_networks(window: MainWindow, run: Callable[..., Any],
                                           busybox_image: str) -> None:
    from engine import Engine
    from engine.containers.config import ContainerConfig

    async def story() -> None:
        async with Engine() as engine:
            await engine.networks.create("front-net")
            try:
                image = await engine.images.get(busybox_image)
                await engine.containers.create(ContainerConfig(image=busybox_image,
                                                               image_id=image.id,
                                                    cmd=["true"]), "netted")
                await container_badge(window, "netted", lambda b: b == "Created", "listed")
                window.select(entry_named(window, "netted").key)
                window.show_tab("settings")
                box = window.details.settings.network
                box.showPopup()  # opening the list asks the engine
                await wait_for(lambda: box.findText("front-net") >= 0, box.model().modelReset,
                               box.model().rowsInserted, what="front-net in the list")
                box.hidePopup()
                assert box.currentText() == "bridge"  # as the CLI names it
            finally:
                await engine.containers.remove("netted", force=True)
                await engine.networks.remove("front-net")

    run(story(), timeout=120)


def test_window_remembers_size_splitter_and_selection(qapp: Any, run: Callable[..., Any],
                                                      window: MainWindow,
                                                      busybox_image: str,
                                                      tmp_path: Path) -> None:
    async def make() -> None:
        from engine import Engine
        from engine.containers.config import ContainerConfig

        async with Engine() as engine:
            image = await engine.images.get(busybox_image)
            for name in ("alpha", "beta"):
                await engine.containers.create(ContainerConfig(image=busybox_image,
                                                               image_id=image.id,
                                                    cmd=["true"]), name)

    run(make())
    run(wait_for(lambda: entry_named(window, "beta"), window.containers.rowsInserted,
                 what="beta"))
    window.select(entry_named(window, "beta").key)
    window.resize(1100, 700)
    window.splitter.setSizes([330, 770])
    sizes = window.splitter.sizes()
    window.close()
    bridge, again = build(qapp, settings_path=tmp_path / "desktop.conf")
    assert isinstance(again, MainWindow)
    again.show()
    try:
        assert run(bridge.open())
        run(wait_for(lambda: again.current() is not None, again.sidebar.current_changed,
                     what="a selection"))
        assert again.current().name == "beta"  # type: ignore[union-attr]
        assert (again.size().width(), again.size().height()) == (1100, 700)
        assert again.splitter.sizes() == sizes
    finally:
        again.close()
        run(bridge.close())


def test_every_control_has_an_accessible_name(window: MainWindow) -> None:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QTabBar,
    )

    def part_of_another_control(widget: QWidget) -> bool:
        """Qt's own pieces: a line edit's clear button, a combo box's popup list, a spin
        box's editor, the tab bar's scroll arrows, a view's headers; the control around
        them has the name."""
        if widget.objectName().startswith("qt_"):
            return True
        parent = widget.parentWidget()
        while parent is not None and parent is not window:
            if isinstance(parent, (QComboBox, QAbstractSpinBox, QLineEdit, QTabBar,
                                   QAbstractItemView)) or \
                    type(parent).__name__ == "QComboBoxPrivateContainer":
                return True
            parent = parent.parentWidget()
        return False

    unnamed = []
    for kind in (QAbstractButton, QLineEdit, QAbstractItemView, QComboBox, QAbstractSpinBox):
        for widget in window.findChildren(kind):
            if part_of_another_control(widget):
                continue
            label = widget.accessibleName() or (widget.text() if isinstance(
                widget, QAbstractButton) else "")
            if not label.strip():
                unnamed.append(f"{type(widget).__name__} {widget.objectName()!r}")
    assert unnamed == [], "\n".join(unnamed)
    menu_shortcuts = {a.text().replace("&", ""): a.shortcut().toString()
                      for m in window.menuBar().actions() if m.menu() is not None
                      for a in m.menu().actions() if not a.shortcut().isEmpty()}  # type: ignore[attr-defined]
    for label, keys in {"Start": "Ctrl+Shift+S", "Stop": "Ctrl+Shift+X",
                        "New Container…": "Ctrl+N", "Find…": "Ctrl+F", "Remove…": "Ctrl+Del",
                        "Import Image from File…": "Ctrl+I", "Quit": "Ctrl+Q"}.items():
        assert menu_shortcuts.get(label) == keys, label


COLOURED = (
    "i=0; while :; do "
    "printf '\\033[32mINFO\\033[0m  GET /api/items/%d 200 in %d ms\\n' $i $((i % 37 + 3)); "
    "if [ $((i % 6)) -eq 5 ]; then "
    "printf '\\033[33mWARN\\033[0m  request %d took longer than 30 ms\\n' $i >&2; fi; "
    "if [ $((i % 11)) -eq 10 ]; then "
    "printf '\\033[1;31mERROR\\033[0m upstream timeout on /api/orders (%d)\\n' $i >&2; fi; "
    "i=$((i+1)); sleep 0.05; done")


def test_a_window_full_of_containers(window: MainWindow, run: Callable[..., Any],
                                     busybox_image: str) -> None:
    """Every state in the sidebar at once, and each tab of a running container: the
    README's screenshots."""
    async def story() -> None:
        from engine import Engine
        from engine.containers.config import ContainerConfig, MountSpec, PortBinding

        async with Engine() as engine:
            image = await engine.images.get(busybox_image)

            async def make(name: str, cmd: list[str], **extra: Any) -> Container:
                return await engine.containers.create(ContainerConfig(
                    image=busybox_image, image_id=image.id, cmd=cmd, **extra), name)

            web = await make("web", ["sh", "-c", COLOURED], env=["MODE=production"],
                             ports=[PortBinding(80, "tcp", "", 0)],
                             mounts=[MountSpec("bind", "/srv", str(Path.cwd()), True)])
            await engine.containers.start(web.id)
            worker = await make("worker", ["sleep", "600"])
            await engine.containers.start(worker.id)
            await engine.containers.pause(worker.id)
            for name, code in (("backup", 0), ("crashy", 3)):
                done = await make(name, ["sh", "-c", f"exit {code}"])
                await engine.containers.start(done.id)
                await engine.containers.wait(done.id)
            await make("fresh", ["true"])
        await container_badge(window, "crashy", lambda b: b == "Exited (3)", "listed")
        await container_badge(window, "worker", lambda b: b == "Paused", "paused")
        await container_badge(window, "fresh", lambda b: b == "Created", "listed")
        assert [window.sidebar.proxy.index(r, 0).data()
                for r in range(window.sidebar.proxy.rowCount())] == [
            "web", "worker", "backup", "crashy", "fresh"]
        window.select(entry_named(window, "web").key)
        logs = window.details.logs
        window.show_tab("logs")
        await wait_for(lambda: logs.model.rowCount() >= 40, logs.model.rowsInserted,
                       timeout=30, what="40 lines of web's log")
        assert any(logs.model.index(r, 0).data(logs.model.StreamRole) == "stderr"
                   for r in range(logs.model.rowCount()))
        logs.search.setText("orders")
        logs.apply_search()
        await wait_for(lambda: logs.matches.text().endswith(("match", "matches"))
                       and not logs.matches.text().startswith("searching"),
                       logs.model.search_progress, what="the search to finish")
        assert logs.model.match_count >= 1
        screenshot(window, "main-window")
        logs.search.clear()
        logs.apply_search()
        window.show_tab("ports")
        await wait_for(lambda: window.details.ports.rows, window.details.inspected,
                       what="web's ports")
        screenshot(window.details, "ports-tab")
        window.show_tab("volumes")
        assert window.details.volumes.rows[0].destination == "/srv"
        window.show_tab("settings")
        screenshot(window.details, "settings-tab")
        window.show_tab("inspect")
        screenshot(window.details, "inspect-tab")
        window.show_tab("logs")

    run(story(), timeout=180)
