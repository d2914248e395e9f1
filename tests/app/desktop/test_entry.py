"""Starting points: ``python -m app``, ``skiff-desktop``, and an app package free of Qt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def python(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_app_package_does_not_import_qt() -> None:
    done = python("-c", "import app, app.cli, sys; "
                        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_python_m_app_answers() -> None:
    done = python("-m", "app", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("skiff-desktop")
    done = python("-m", "app", "--help")
    assert done.returncode == 0 and "--debug" in done.stdout


def test_without_the_window_packages_one_line_names_them() -> None:
    for blocked, package in (("PySide6", "PySide6-Essentials"), ("pyqtgraph", "pyqtgraph")):
        done = python("-c", f"import sys; sys.modules[{blocked!r}] = None; "
                            "sys.argv[1:] = ['--version']; "
                            "import runpy; runpy.run_module('app', run_name='__main__')")
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1 and package in done.stderr, done.stderr
        assert "pip install" in done.stderr


def test_skiff_desktop_is_the_launcher() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["gui-scripts"]
    assert scripts["skiff-desktop"] == "app.launch:main"


def test_desktop_entry_and_icon() -> None:
    for path in (ROOT / "resources" / "skiff-desktop.desktop",
                 ROOT / "packaging" / "skiff-desktop.desktop"):
        entry = dict(line.split("=", 1) for line in path.read_text().splitlines()
                     if "=" in line)
        assert entry["Exec"] == "skiff-desktop" and entry["Icon"] == "skiff"
        assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert (ROOT / "resources" / "skiff.svg").read_text().startswith("<svg")


def test_garbage_is_collected_on_the_gui_thread(qapp: object) -> None:
    import gc

    from app.desktop.utils.gcguard import GarbageCollector

    collector = GarbageCollector()
    enabled = gc.isenabled()
    collector.start()
    try:
        assert not gc.isenabled()

        class Cycle:
            pass

        for _ in range(2000):  # more than generation 0's threshold of cyclic garbage
            a, b = Cycle(), Cycle()
            a.other, b.other = b, a  # type: ignore[attr-defined]
        assert collector.check() > 0
        collector.freeze()
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
    finally:
        collector.stop()
    assert gc.isenabled() == enabled


def test_the_freeze_waits_for_the_launch(qtbot: Any) -> None:
    """Its full collection (~30-40 ms) comes after the window's first paint."""
    import gc

    from app.desktop.utils.gcguard import GarbageCollector

    collector = GarbageCollector()
    gc.unfreeze()
    collector.freeze_later(50)
    try:
        assert gc.get_freeze_count() == 0
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0)
    finally:
        gc.unfreeze()


def test_the_window_imports_the_api_server_and_pyte_only_when_used(tmp_path: Path) -> None:
    """aiohttp and the API's routes cost ~0.3 s of a launch, pyte ~35 ms: not for a
    window that does not serve (serving/server.py imports them when serving starts)
    nor has a terminal open (terminal/session.py and widget.py, with the first)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path),
               SKIFF_ROOT=str(tmp_path / "root"))
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from PySide6.QtWidgets import QApplication; "
         "app = QApplication([]); from app.desktop.main import build; build(app); "
         "print(sorted(m for m in ('aiohttp', 'app.api.server', 'pyte') if m in sys.modules))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_window_makes_its_pages_only_when_wanted(tmp_path: Path) -> None:
    """The Images, Volumes, Networks, Disk Usage and Network Map pages, the "+ New"
    image browser, every container tab but Logs, the compose loader and what makes a
    container are not on a launch's way to its first paint (manage.py makes each page
    the first time it shows, frame.py the browser, widgets/deferredtab.py the tabs;
    projects/ loads a project when asked, firstrun.py imports createjob.py when run)."""
    lazy = ("app.desktop.images.page", "app.desktop.volumes.page", "app.desktop.networks.page",
            "app.desktop.disk.page", "app.desktop.networks.mappage", "app.desktop.learn.view",
            "app.desktop.images.browser", "engine.compose.loader", "app.desktop.settings.view",
            "app.desktop.containers.createjob", "app.desktop.files.view",
            "app.desktop.terminal.view", "app.desktop.stats.view", "app.desktop.inspect.view",
            "app.desktop.inspect.portstab")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path),
               SKIFF_ROOT=str(tmp_path / "root"))
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from PySide6.QtWidgets import QApplication; "
         "app = QApplication([]); from app.desktop.main import build; "
         "_bridge, window = build(app); "
         f"print(sorted(m for m in {lazy!r} if m in sys.modules)); "
         "window.manage.show('disk'); "
         f"print(sorted(m for m in {lazy!r} if m in sys.modules))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "['app.desktop.disk.page']"]
