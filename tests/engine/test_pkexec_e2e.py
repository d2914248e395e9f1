"""A desktop user who is not root, through the real pkexec, polkitd and installed helper.

Uses the harness in tests/fixtures (systembus, installed, desktopuser): Skiff
installed by ``make install`` into its own prefix, a user authorised by a
polkit rule, commands run with ``runuser``. Each way the polkit path can fail
gets its one sentence, with no traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from engine import polkit
from tests.fixtures.desktopuser import DesktopUser
from tests.fixtures.polkitagent import DismissingAgent

pytestmark = pytest.mark.root


def _one_line(out: subprocess.CompletedProcess[str], sentence: str) -> None:
    assert out.returncode != 0, out
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip().splitlines() == [f"skiff: {sentence}"], out.stderr


def test_load_and_run_through_pkexec(desktop_user: DesktopUser, user_busybox: str) -> None:
    out = desktop_user.skiff("run", "--rm", user_busybox, "echo", "hello", check=True)
    assert out.stdout == "hello\n"
    assert user_busybox.split(":")[0] in desktop_user.skiff("images", check=True).stdout


def test_the_launchers_on_path_are_the_installed_copy(desktop_user: DesktopUser) -> None:
    for name in ("skiff", "skiff-desktop"):
        where = desktop_user.run(["sh", "-c", f"command -v {name}"], check=True).stdout
        assert where.strip() == str(desktop_user.installation.bin / name)
    out = desktop_user.run(["skiff-desktop", "--version"], check=True)
    assert out.stdout.startswith("skiff-desktop 0.")


def test_the_helper_is_the_installed_one_and_root(desktop_user: DesktopUser,
                                                  user_busybox: str) -> None:
    out = desktop_user.skiff("run", "-d", user_busybox, "sleep", "60", check=True)
    cid = out.stdout.strip()
    try:
        assert desktop_user.skiff("ps", "-q", check=True).stdout.split() == [cid[:12]]
        status = desktop_user.installation.helper_root / "users" / str(desktop_user.uid)
        assert (status / "containers" / cid).is_dir()
    finally:
        desktop_user.skiff("rm", "-f", cid, check=True)


def test_polkit_says_no(desktop_user: DesktopUser, user_busybox: str) -> None:
    with desktop_user.polkit_says("NO"):
        out = desktop_user.skiff("run", "--rm", user_busybox, "true")
    _one_line(out, polkit.REFUSED.format(action=desktop_user.installation.polkit_action))


def test_no_authentication_agent(desktop_user: DesktopUser, user_busybox: str) -> None:
    with desktop_user.polkit_says("AUTH_ADMIN"):
        out = desktop_user.skiff("run", "--rm", user_busybox, "true")
    _one_line(out, polkit.NO_AGENT)


def test_dismissed(desktop_user: DesktopUser, user_busybox: str) -> None:
    with desktop_user.polkit_says("AUTH_ADMIN"):
        # The shell says its pid, waits for the agent, then becomes skiff (same pid):
        # pkexec asks the agent of its parent, which is that process.
        process = desktop_user.popen(
            ["sh", "-c", 'echo $$; read go; exec skiff run --rm "$0" true', user_busybox],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stdin is not None
        pid = int(process.stdout.readline())
        with DismissingAgent(pid) as agent:
            stdout, stderr = process.communicate("go\n", timeout=120)
        assert agent.asked == 1
    _one_line(subprocess.CompletedProcess([], process.returncode, stdout, stderr),
              polkit.DISMISSED)


def test_no_polkit_service(desktop_user: DesktopUser, user_busybox: str) -> None:
    out = desktop_user.skiff("run", "--rm", user_busybox, "true", hide=["/run/dbus"])
    _one_line(out, polkit.NO_POLKIT)


def test_pkexec_missing(desktop_user: DesktopUser, user_busybox: str) -> None:
    pkexec = shutil.which("pkexec")
    assert pkexec is not None
    out = desktop_user.skiff("run", "--rm", user_busybox, "true", hide=[pkexec])
    _one_line(out, polkit.NO_PKEXEC)


def test_helper_not_installed(desktop_user: DesktopUser, user_busybox: str) -> None:
    helper = desktop_user.installation.helper
    out = desktop_user.skiff("run", "--rm", user_busybox, "true", hide=[str(helper.parent)])
    _one_line(out, polkit.NOT_INSTALLED)


@pytest.mark.parametrize("change", ["chmod", "chown"])
def test_helper_refuses_code_a_user_can_change(desktop_user: DesktopUser, user_busybox: str,
                                               change: str) -> None:
    """One module of the installed engine writable by others, or the user's: the helper,
    started for the user by pkexec, runs none of it and says which file."""
    site = desktop_user.installation.prefix / "lib" / "skiff"
    module = next(site.glob("lib/python3*/site-packages/engine/wire/protocol.py"))
    before = module.stat()
    try:
        if change == "chmod":
            module.chmod(0o666)
        else:
            os.chown(module, desktop_user.uid, -1)
        out = desktop_user.skiff("run", "--rm", user_busybox, "true")
    finally:
        os.chown(module, before.st_uid, before.st_gid)
        module.chmod(before.st_mode & 0o7777)
    why = ("is writable by someone other than root" if change == "chmod"
           else f"belongs to uid {desktop_user.uid}, not root")
    _one_line(out, f"refusing to run as root for uid {desktop_user.uid}: {module} {why}; "
                   "install Skiff with `sudo make install` (or its .deb) and use that copy")
    assert desktop_user.skiff("run", "--rm", user_busybox, "true").returncode == 0


WINDOW_DRIVER = """
import asyncio, sys
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication, QMessageBox

from app.desktop.main import build

app = QApplication(["skiff-desktop"])
app.setQuitOnLastWindowClosed(False)  # as the app does: closing ends the loop, not Qt
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
bridge, window = build(app)
window.show()


async def main() -> None:
    await bridge.open()
    window.browser.import_file(Path(sys.argv[1]))
    for _ in range(1200):
        box = window.findChild(QMessageBox, "helper-unavailable")
        if box is not None and box.isVisible():
            print(box.text())
            break
        await asyncio.sleep(0.05)
    window.close()
    await bridge.close()


with loop:
    loop.run_until_complete(main())
"""


def test_the_window_shows_polkits_answer_in_a_dialog(desktop_user: DesktopUser,
                                                     busybox_docker_archive: Path) -> None:
    """The installed window, as the user, offscreen: importing an image needs the helper,
    polkit says no, and the dialog says what the CLI says."""
    driver = desktop_user.home / "window_driver.py"
    driver.write_text(WINDOW_DRIVER)
    archive = desktop_user.put(busybox_docker_archive)
    python = desktop_user.installation.prefix / "lib" / "skiff" / "bin" / "python"
    runtime = desktop_user.home / ".runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.chown(runtime, desktop_user.uid, desktop_user.gid)
    with desktop_user.polkit_says("NO"):
        out = desktop_user.run([str(python), "-I", str(driver), str(archive)],
                               env={"QT_QPA_PLATFORM": "offscreen",
                                    "XDG_RUNTIME_DIR": str(runtime)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == polkit.REFUSED.format(
        action=desktop_user.installation.polkit_action), out.stderr


def test_a_users_commands_go_through_their_own_server(desktop_user: DesktopUser,
                                                      user_busybox: str) -> None:
    """The installed ``skiff`` hands a user's commands to that user's pre-imported
    server (app/cli/forkserver.py), which finds the installation and its helper as
    the script would, runs as the user and lives in their runtime directory."""
    runtime = desktop_user.home / "cli-runtime"  # as /run/user/UID: theirs, 0700
    runtime.mkdir(mode=0o700)
    os.chown(runtime, desktop_user.uid, desktop_user.uid)
    env = {"XDG_RUNTIME_DIR": str(runtime), "SKIFF_HELPER_IDLE": "30"}
    server = 0
    try:
        for _ in range(2):  # the first starts the server, the next are its children
            out = desktop_user.skiff("run", "--rm", user_busybox, "id", "-u", env=env,
                                     check=True)
            assert out.stdout == "0\n"
        deadline = time.monotonic() + 60
        while not list((runtime / "skiff").glob("cli-*.sock")):
            assert time.monotonic() < deadline, "no server started"
            time.sleep(0.1)
        (lock,) = (runtime / "skiff").glob("cli-*.sock.lock")
        server = int(lock.read_text())
        assert os.stat(f"/proc/{server}").st_uid == desktop_user.uid
        assert (runtime / "skiff").stat().st_mode & 0o777 == 0o700
        out = desktop_user.skiff("run", "--rm", user_busybox, "echo", "served", env=env,
                                 check=True)
        assert out.stdout == "served\n"
        children = Path(f"/proc/{server}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(children[13]) + int(children[14]) > 0  # it ran them: its children's CPU
    finally:
        if server:
            os.kill(server, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while Path(f"/proc/{server}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        shutil.rmtree(runtime)
