"""Python's garbage collector, run on the GUI thread only.

The log scanner and the event pump are Python threads. If the cyclic garbage
collector happens to run in one of them, it may free Qt objects there, and Qt
objects must die in their own thread ("Timers cannot be stopped from another
thread", then crashes). So automatic collection is switched off and this object
collects on the GUI thread instead, as often as the normal thresholds would.
After start-up, everything that exists is frozen out of collection, so a full
collection (tens of milliseconds over the Qt and plotting modules) stays short;
the freeze starts with one such collection (~30-40 ms with the window's modules),
so it waits until the window has listed and painted (``freeze_later``).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["GarbageCollector"]

INTERVAL_MS = 1000
#: After the window shows: its first listing and paint are done well before (a launch
#: takes ~0.6-1 s on a loaded machine), and nothing but start-up ran before it.
FREEZE_AFTER_MS = 2000


class GarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def freeze(self) -> None:
        """Set what exists now (modules, the window) aside for good: later full
        collections then only walk newer objects, which keeps them short."""
        gc.collect()
        gc.freeze()

    def freeze_later(self, delay_ms: int = FREEZE_AFTER_MS) -> None:
        """``freeze`` once ``delay_ms`` have passed, off the launch's way."""
        QTimer.singleShot(delay_ms, self, self.freeze)

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def check(self) -> int:
        """Collect the generations whose thresholds were passed; objects freed."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                return gc.collect(generation)
        return 0
