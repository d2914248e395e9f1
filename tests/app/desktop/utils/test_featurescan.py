"""PySide6 reads no source of the window's modules once told they ask for no feature."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]

_PROBE = """
import linecache, sys
from PySide6.QtWidgets import QApplication
from app.desktop.utils.featurescan import skip_feature_scan
if sys.argv[1] == "skip":
    skip_feature_scan()
from app.desktop.main import build
app = QApplication([])
bridge, window = build(app)
window.show()
app.processEvents()
read = [name for name in linecache.cache
        if "/app/desktop/" in name and not name.endswith("featurescan.py")]  # read before
print(len(read), window.isVisible(), window.containers.rowCount())
"""


def _probe(mode: str, tmp_path: Path) -> list[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path),
               SKIFF_ROOT=str(tmp_path / "root"))
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_window_builds_without_pyside_reading_its_sources(tmp_path: Path) -> None:
    read, visible, rows = _probe("skip", tmp_path)
    assert (read, visible, rows) == ("0", "True", "0")


def test_without_it_pyside_reads_every_source(tmp_path: Path) -> None:
    """What the skip saves: if PySide6 stops reading sources, featurescan can go."""
    read, _visible, _rows = _probe("no", tmp_path)
    assert int(read) > 40  # ~60: the window's modules a launch imports (pages and tabs later)
