"""Starting the window: QApplication, the qasync loop, the engine, the main window.

``main()`` is the ``skiff-desktop`` command and ``python -m app``. The window
shows at once ("Starting the engine…"); the engine opens on the loop, so a slow
helper start never freezes it. Closing the window cancels the bridge's tasks
and closes the engine; containers keep running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSocketNotifier
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from app.desktop.bridge import Bridge
    from app.desktop.mainwindow import MainWindow
    from engine import Engine

__all__ = ["build", "icon", "main", "run"]

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def icon() -> QIcon:
    path = RESOURCES / "skiff.svg"
    if path.is_file():
        return QIcon(str(path))
    return QIcon.fromTheme("skiff")


def build(app: QApplication, engine_factory: Callable[[], Engine] | None = None,
          settings_path: Path | None = None) -> tuple[Bridge, MainWindow]:
    """The bridge and main window, not yet shown or opened."""
    from app.desktop.bridge import Bridge
    from app.desktop.mainwindow import MainWindow
    from app.desktop.utils.prefs import AppSettings

    bridge = Bridge(engine_factory)
    window = MainWindow(bridge, AppSettings(settings_path))
    window.setWindowIcon(icon())
    return bridge, window


async def run(bridge: Bridge, window: MainWindow) -> None:
    """Open the engine, wait for the window to close, then close the engine."""
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    opening = asyncio.ensure_future(bridge.open())
    await closed.wait()
    if not opening.done():
        opening.cancel()
    await asyncio.gather(opening, return_exceptions=True)
    await bridge.close()


def _install_sigint(window: MainWindow) -> QSocketNotifier:
    """Ctrl+C in the terminal closes the window cleanly, even while Qt idles."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass

    notifier.activated.connect(drain)
    signal.signal(signal.SIGINT, lambda *_: window.close())
    notifier._sockets = (reader, writer)  # type: ignore[attr-defined]  # keep them open
    return notifier


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    parser = argparse.ArgumentParser(prog="skiff-desktop",
                                     description="Skiff's desktop window.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="log what happens to stderr")
    options, qt_args = parser.parse_known_args(argv[1:])
    if options.version:
        from app import VERSION

        print(f"skiff-desktop {VERSION}")
        return 0
    from app.desktop.utils.featurescan import skip_feature_scan

    skip_feature_scan()  # before the window's modules, and asyncio's, are imported
    logging.basicConfig(level=logging.DEBUG if options.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("qasync").setLevel(logging.INFO)  # its debug log is every callback
    import qasync

    from app.desktop.utils.gcguard import GarbageCollector
    from app.desktop.utils.theme import follow_color_scheme

    app = QApplication([argv[0], *qt_args])
    app.setApplicationName("Skiff")
    app.setApplicationDisplayName("Skiff")
    app.setOrganizationName("skiff")
    app.setDesktopFileName("skiff-desktop")
    app.setWindowIcon(icon())
    app.setQuitOnLastWindowClosed(False)  # run() ends the loop after closing the engine
    follow_color_scheme(app)
    collector = GarbageCollector(app)  # Qt objects die on the GUI thread only
    collector.start()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    bridge, window = build(app)
    notifier = _install_sigint(window)
    window.show()
    collector.freeze_later()
    try:
        with loop:
            loop.run_until_complete(run(bridge, window))
    except RuntimeError:  # Qt ended the loop itself: the display went away (it said so)
        print("skiff-desktop: the window lost its display; containers keep running",
              file=sys.stderr)
        return 1
    finally:
        notifier.setEnabled(False)
        signal.set_wakeup_fd(-1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
