"""``skiff-desktop`` and ``python -m app``: the window, or one line saying what is missing.

The window's Python packages are Skiff's default dependencies, but an engine-only
environment, or a machine without Qt's system libraries, should hear which
package to install rather than see an ImportError's traceback.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["main", "missing_packages"]

#: (module, the package that provides it)
NEEDED = (("PySide6", "PySide6-Essentials"), ("qasync", "qasync"), ("pyte", "pyte"),
          ("pyqtgraph", "pyqtgraph"))
#: Qt's xcb platform and OpenGL libraries, as Debian/Ubuntu name them.
QT_SYSTEM_PACKAGES = "libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libfontconfig1"


def missing_packages() -> list[str]:
    return [package for module, package in NEEDED if importlib.util.find_spec(module) is None]


def main() -> int:
    missing = missing_packages()
    if missing:
        print(f"skiff-desktop: the window needs {', '.join(missing)}, which "
              f"{'is' if len(missing) == 1 else 'are'} not installed: "
              f"run `pip install {' '.join(missing)}` in Skiff's environment "
              "(or reinstall Skiff with `pip install skiff`)", file=sys.stderr)
        return 1
    try:
        from app.desktop.main import main as run_window
    except ImportError as exc:  # Qt found, one of its system libraries not
        print(f"skiff-desktop: Qt could not load ({exc}): install its system libraries, "
              f"e.g. `sudo apt-get install {QT_SYSTEM_PACKAGES}`", file=sys.stderr)
        return 1
    return run_window()
