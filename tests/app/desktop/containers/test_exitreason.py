"""Why did it stop: the words for each way a container ends, the notification when one
started here dies, and a real OOM kill labelled as such in the sidebar and the header."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.containers.exitnotifier import ExitNotifier
from app.desktop.containers.exitreason import (
    died_unexpectedly,
    full_reason,
    row_detail,
    short_reason,
)
from app.desktop.mainwindow import MainWindow
from engine.containers.config import ContainerConfig, Resources, RestartPolicy
from engine.containers.model import Container
from engine.containers.state import ContainerState, Status
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import entry_named, live_window, make, publish, select


def ended(status: Status = Status.EXITED, memory: int | None = None,
          policy: str = "no", **state: Any) -> Container:
    config = ContainerConfig(image="busybox", image_id="sha256:" + "a" * 64,
                             resources=Resources(memory=memory),
                             restart_policy=RestartPolicy(policy))
    return Container("1" * 64, "web", "", config, ContainerState(status, **state))


def test_each_way_of_ending_in_a_few_words() -> None:
    assert short_reason(ended(exit_code=0)) == "Exited normally"
    assert short_reason(ended(exit_code=3)) == "Failed with code 3"
    assert short_reason(ended(exit_code=137, signal=9)) == "Killed by SIGKILL"
    assert short_reason(ended(exit_code=137, oom_killed=True, memory=32 << 20)) == \
        "OOM-killed at 32.0 MiB"
    assert short_reason(ended(exit_code=137, oom_killed=True)) == "OOM-killed"
    assert short_reason(ended(exit_code=143, signal=15, stopped_by_user=True)) == \
        "Stopped by the user"
    assert short_reason(ended(exit_code=127, error="exec: \"nope\": not found")) == \
        "Could not run its command (127)"
    assert short_reason(ended(Status.RESTARTING, policy="always", exit_code=1,
                              restart_count=2)) == \
        "Restarting after exit code 1 · restarted 2 times"
    assert short_reason(ended(Status.RUNNING, policy="always", restart_count=1)) == \
        "Restarted 1 time by its policy"
    assert short_reason(ended(Status.RUNNING)) == ""
    assert short_reason(ended(Status.CREATED)) == ""
    assert row_detail(ended(exit_code=3), "busybox:latest") == \
        "Failed with code 3 · busybox:latest"
    assert row_detail(ended(Status.RUNNING), "busybox:latest") == "busybox:latest"
    assert row_detail(None, "busybox:latest") == "busybox:latest"


def test_the_header_sentence_and_what_counts_as_unexpected() -> None:
    oom = ended(exit_code=137, oom_killed=True, memory=32 << 20)
    assert "ran out of memory" in full_reason(oom) and "32.0 MiB" in full_reason(oom)
    assert full_reason(ended(Status.RUNNING)) == ""
    assert full_reason(ended(exit_code=0)).startswith("Exited normally (code 0)")
    assert died_unexpectedly(oom.state)
    assert died_unexpectedly(ended(exit_code=3).state)
    assert died_unexpectedly(ended(exit_code=137, signal=9).state)
    assert not died_unexpectedly(ended(exit_code=0).state)
    assert not died_unexpectedly(ended(exit_code=137, signal=9, stopped_by_user=True).state)
    assert not died_unexpectedly(ended(Status.RUNNING).state)


class NoBus:
    """A session bus that is not there (as on a desktop without D-Bus)."""


def test_notifies_only_for_containers_started_here_that_die(qapp: Any) -> None:
    said: list[str] = []
    notifier = ExitNotifier(said.append, bus=NoBus())
    running = ended(Status.RUNNING)
    notifier.observe([running])
    notifier.observe([ended(exit_code=3)])
    assert said == []  # not started from this window
    notifier.started_here(running.id)
    notifier.observe([running])
    notifier.observe([ended(exit_code=137, signal=9, stopped_by_user=True)])
    assert said == []  # the user stopped it
    notifier.observe([running])
    notifier.observe([ended(exit_code=0)])
    assert said == []  # finished its work
    notifier.observe([running])
    notifier.observe([ended(exit_code=137, oom_killed=True, memory=32 << 20)])
    notifier.observe([ended(exit_code=137, oom_killed=True, memory=32 << 20)])
    assert len(said) == 1  # once per death
    assert said[0].startswith("web stopped unexpectedly: Killed because it ran out of memory")


FAKE_PORTAL = """
import sys
from PySide6.QtCore import QCoreApplication
from PySide6.QtDBus import QDBusConnection, QDBusVirtualObject
app = QCoreApplication([])
bus = QDBusConnection.connectToBus(sys.argv[1], "portal")
class Portal(QDBusVirtualObject):
    def introspect(self, path):
        return ""
    def handleMessage(self, message, connection):
        args = message.arguments()
        print(message.interface(), message.member(), message.signature(), args[0], flush=True)
        connection.send(message.createReply([]))
        return True
portal = Portal()
bus.registerService("org.freedesktop.portal.Desktop")
bus.registerVirtualObject("/org/freedesktop/portal/desktop", portal)
print("ready", flush=True)
app.exec()
"""


@pytest.fixture
def private_bus(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A session bus of our own, with a notification portal that prints each call."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--print-address", "--nofork",
                               "--nopidfile"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    portal = None
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        script = tmp_path / "portal.py"
        script.write_text(FAKE_PORTAL)
        portal = subprocess.Popen([sys.executable, str(script), address],
                                  stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert _line(portal) == "ready"
        yield address, portal
    finally:
        for process in (portal, daemon):
            if process is not None:
                process.terminate()
                process.wait(10)


def _line(process: Any, timeout: float = 10) -> str:
    import select as waiting

    readable, _, _ = waiting.select([process.stdout], [], [], timeout)
    assert readable, "the fake portal said nothing"
    return str(process.stdout.readline()).strip()


def test_the_notification_goes_to_the_desktop_portal(qapp: Any,
                                                     private_bus: tuple[str, Any]) -> None:
    from PySide6.QtDBus import QDBusConnection

    address, portal = private_bus
    bus = QDBusConnection.connectToBus(address, "skiff-test")
    try:
        said: list[str] = []
        notifier = ExitNotifier(said.append, bus=bus)
        sent: list[tuple[str, str, str]] = []
        notifier.notified.connect(lambda how, title, text: sent.append((how, title, text)))
        assert notifier.notify(ended(exit_code=3)) == "portal"
        assert said == [] and sent[0][:2] == ("portal", "web stopped unexpectedly")
        # What the portal got: AddNotification(s id, a{sv} {title, body, priority}).
        assert _line(portal) == ("org.freedesktop.portal.Notification AddNotification "
                                 "sa{sv} skiff-exit-1")
    finally:
        QDBusConnection.disconnectFromBus("skiff-test")


# -- a real OOM kill ----------------------------------------------------------------------


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


HOG = "yes abcdefghijklmnopqrstuvwxyz | head -c 300000000 | sort > /dev/null"


@pytest.mark.gui
@pytest.mark.root
def test_an_oom_killed_container_is_labelled(window: MainWindow, run: Callable[..., Any],
                                             busybox_image: str) -> None:
    header = window.details.header

    async def story() -> None:
        for name, script in (("finished", "exit 0"), ("crashed", "exit 3")):
            await make(busybox_image, name, ["sh", "-c", script])
            await select(window, name, lambda c: c.state.status is Status.EXITED, "exited")
        victim = await make(busybox_image, "killed", ["sleep", "600"])
        os.kill(victim.state.pid, signal.SIGKILL)  # from outside, nobody asked Skiff
        await select(window, "killed", lambda c: c.state.status is Status.EXITED, "exited")
        await make(busybox_image, "hog", ["sh", "-c", HOG], start=False,
                   resources=Resources(memory=32 << 20))
        await select(window, "hog")
        window.container_actions.start.trigger()  # started here: a death is notified
        hog = await select(window, "hog", lambda c: c.state.status is Status.EXITED,
                           "OOM-killed", timeout=120)
        assert hog.state.oom_killed
        assert entry_named(window, "hog").badge.text == "OOM-killed"
        assert row_detail(hog, "busybox:latest") == "OOM-killed at 32.0 MiB · busybox:latest"
        await wait_for(lambda: "ran out of memory" in header.reason.text(),
                       window.containers.dataChanged, what="the header's reason")
        assert "32.0 MiB" in header.reason.text() and header.reason.isVisible()
        await wait_for(lambda: any(m.startswith("hog stopped unexpectedly")
                                   for m in window.messages.messages()),
                       window.messages.changed, what="the notification (in the window: "
                       "no desktop here)")
        assert not any(m.startswith(("finished", "crashed", "killed"))
                       for m in window.messages.messages())  # not started here
        details = {e.name: row_detail(e.container, e.image) for e in window.containers.entries()}
        assert details["finished"].startswith("Exited normally")
        assert details["crashed"].startswith("Failed with code 3")
        assert details["killed"].startswith("Killed by SIGKILL")
        window.show_tab("logs")
        screenshot(window, "exit-reason")
        publish("exit-reason")

    run(story(), timeout=240)
