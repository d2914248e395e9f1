"""A request's cancellation: set once by another thread, seen at once by the work.

The helper cancels a request when its client asks (the ``cancel`` verb) or hangs
up. Work that loops checks ``cancelled``; work that waits on descriptors polls
``fileno()`` too, an eventfd made only when someone waits on it, so a wait on a
silent pipe ends the moment the request is cancelled.
"""

from __future__ import annotations

import os
import threading

__all__ = ["Cancellation"]


class Cancellation:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._fd = -1

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            if self._fd >= 0:
                os.eventfd_write(self._fd, 1)

    def fileno(self) -> int:
        """Readable once cancelled (poll it for POLLIN); closed by ``close()``."""
        with self._lock:
            if self._fd < 0:
                self._fd = os.eventfd(1 if self._cancelled else 0,
                                      os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            return self._fd

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)
