"""The Docker API server run inside the window, on the window's own engine.

``skiff serve`` in-process: the same app (app/api) on the qasync loop, through
the bridge (so closing the window stops it with everything else). A socket
someone else serves already (``skiff serve``, the systemd unit) is reported,
not taken over.

The API server (aiohttp and every route) is imported only when serving starts:
at launch it cost ~0.3 s of the ~1 s to a painted window (benchmarks/desktop.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from app.api.server import Address

__all__ = ["ApiServer"]


class ApiServer(QObject):
    """``set_enabled(True)`` serves (once the engine is ready), ``False`` stops."""

    state_changed = Signal(str)  # off | starting | serving
    failed = Signal(str)  # a sentence for the user

    def __init__(self, bridge: Any, address: Callable[[], Address] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.address = address  # None: the user's default socket
        self.where: Address | None = None
        self._state = "off"
        self._wanted = False
        self._errored = False
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[Any] | None = None
        bridge.state_changed.connect(self._on_bridge_state_changed)

    @property
    def state(self) -> str:
        return self._state

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def set_enabled(self, enabled: bool) -> None:
        self._wanted = enabled
        if enabled and self._task is None and self.bridge.state == "ready":
            self._start()
        elif not enabled and self._stop is not None:
            self._stop.set()

    def _on_bridge_state_changed(self, state: str) -> None:
        if state == "ready" and self._wanted and self._task is None:
            self._start()

    def _start(self) -> None:
        from app.api.server import ListenError, default_address, serve

        try:
            where = (self.address or default_address)()
        except ListenError as exc:
            self.failed.emit(f"Could not serve the Docker API: {exc}")
            return
        stop = asyncio.Event()
        self._stop = stop
        self._set_state("starting")

        def ready(address: Address) -> None:
            self.where = address
            self._set_state("serving")

        task = self.bridge.submit(
            "serve the Docker API",
            lambda engine: serve(engine, where, ready=ready, stop=stop),
            on_error=self._on_error)
        if task is None:
            self._set_state("off")
            return
        self._task = task
        task.add_done_callback(self._on_done)

    def _on_error(self, message: str) -> None:
        self._errored = True
        self.failed.emit(message)

    def _on_done(self, _task: asyncio.Task[Any]) -> None:
        errored, self._errored = self._errored, False
        self._task = None
        self._stop = None
        self.where = None
        self._set_state("off")
        if self._wanted and not errored and self.bridge.state == "ready":
            self._start()  # switched off and on again before it had stopped

    async def stop(self) -> None:
        """Stop serving and wait until the socket is gone."""
        self._wanted = False
        task = self._task
        if self._stop is not None:
            self._stop.set()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
