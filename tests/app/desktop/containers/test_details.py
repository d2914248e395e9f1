"""The details' inspect document is asked for when a tab it fills shows, not at each
selection (a running container's would start the helper at launch)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]

SCRIPT = """
from PySide6.QtWidgets import QApplication
from app.desktop.main import build
from tests.app.desktop.samples import container

app = QApplication([])
bridge, window = build(app)
asked = []
bridge.inspect = lambda cid, on_done, on_error=None: asked.append(cid)
bridge.log_path = lambda *_args: None
details = window.details
web, db = container("web"), container("db")
details.set_container(web)
details.show_tab("settings")
print(asked == [])
details.show_tab("ports")
print(asked == [web.id])
details.set_container(db)  # shown: asked at once
print(asked == [web.id, db.id])
details.show_tab("logs")
details.set_container(web)
details.show_tab("volumes")
details.show_tab("inspect")
print(asked == [web.id, db.id, web.id])
said = []
details.failed.connect(said.append)  # the tabs' own failures, made late, reach the window
details.ports.failed.emit("no browser")
details.volumes.failed.emit("no file manager")
print(said == ["no browser", "no file manager"])
"""


def test_the_inspect_document_waits_for_its_tabs(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path),
               SKIFF_ROOT=str(tmp_path / "root"))
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Error" not in done.stderr, done.stderr
    assert done.stdout.split() == ["True"] * 5
