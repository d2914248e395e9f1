"""One shell in a container: the engine's exec session feeding a terminal screen.

The session runs as one bridge task (so closing the window cancels it): it
picks the shell (``bash`` when the container has it, else ``sh``, unless the
user typed a command), starts ``exec -it`` at the screen's size, then pumps
output into the screen and typed bytes out, until the program ends. Big
output is fed in slices so the window keeps repainting. Failures to start
become one sentence (``failed``), written for someone who has never seen
``exec``: not running, paused, or no shell in the image.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.desktop.bridge import Bridge, EngineLike
from engine import Container, ContainerNotFound, ContainerStartError, InvalidState, NotFound

if TYPE_CHECKING:
    from app.desktop.terminal.screen import TerminalScreen

__all__ = ["AUTOMATIC", "TerminalSession", "exec_command_line"]

log = logging.getLogger(__name__)

AUTOMATIC = ""  # the shell: bash if the container has it, else sh
SHELLS = ("/bin/bash", "/usr/bin/bash")
TERM = "xterm-256color"


def exec_command_line(name: str, command: list[str]) -> str:
    """What the user would type for the same shell: ``skiff exec -it web sh``."""
    return shlex.join(["skiff", "exec", "-it", name, *command])


class TerminalSession(QObject):
    started = Signal(list)  # the command that runs
    output = Signal()  # the screen changed
    finished = Signal(int)  # the exit code
    failed = Signal(str)  # could not start: a sentence for the user

    def __init__(self, bridge: Bridge, container: Container, command: str = AUTOMATIC,
                 rows: int = 24, columns: int = 80, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.container = container
        self.requested = command.strip()
        self.command: list[str] = []
        # The emulator (pyte, ~35 ms of imports) comes with the first shell, not at launch.
        from app.desktop.terminal.screen import TerminalScreen

        self.screen: TerminalScreen = TerminalScreen(columns, rows, respond=self._respond)
        self.state = "new"  # new → starting → running → ended | failed
        self.exit_code: int | None = None
        self._exec: Any = None
        self._input: asyncio.Queue[bytes] | None = None
        self._task: asyncio.Task[Any] | None = None

    # -- control -----------------------------------------------------------------------

    def start(self) -> None:
        if self.state != "new":
            return
        self.state = "starting"
        self._task = self.bridge.submit(f"open a shell in {self.container.name}", self._run,
                                        on_error=self._on_error)

    def write(self, data: bytes) -> None:
        if self._input is not None and self.state == "running":
            self._input.put_nowait(data)

    def resize(self, rows: int, columns: int) -> None:
        self.screen.resize(rows, columns)
        if self._exec is not None and self.state == "running":
            try:
                self._exec.resize(rows, columns)
            except OSError:
                pass

    def close(self) -> None:
        """End the session (the shell gets a hang-up)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._close_exec()

    def _respond(self, text: str) -> None:
        """The terminal's answers to the program's queries (cursor position...)."""
        self.write(text.encode())

    # -- the task -------------------------------------------------------------------------

    async def _run(self, engine: EngineLike) -> None:
        from app.desktop.terminal.screen import FEED_SLICE

        name = self.container.name
        try:
            self.command = await self._choose(engine)
            self._exec = await engine.containers.exec(
                self.container.id, self.command, tty=True, env=[f"TERM={TERM}"],
                rows=self.screen.lines, cols=self.screen.columns)
        except ContainerStartError as exc:
            self._fail(no_shell_message(name, self.command, str(exc)))
            return
        except InvalidState as exc:
            self._fail(not_running_message(name, "paused" in str(exc)))
            return
        except ContainerNotFound:
            self._fail(f"{name} does not exist any more.")
            return
        self._input = asyncio.Queue()
        self.state = "running"
        self.started.emit(self.command)
        writer = asyncio.ensure_future(self._write_input())
        try:
            # The screen may have changed size while exec started.
            self._exec.resize(self.screen.lines, self.screen.columns)
            while True:
                _stream, data = await self._exec.read()
                if not data:
                    break
                for start in range(0, len(data), FEED_SLICE):
                    self.screen.feed(data[start:start + FEED_SLICE])
                    if start:
                        await asyncio.sleep(0)
                self.output.emit()
            code = await self._exec.wait()
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._close_exec()
        self.state = "ended"
        self.exit_code = code
        self.finished.emit(code)

    async def _choose(self, engine: EngineLike) -> list[str]:
        if self.requested:
            return shlex.split(self.requested)
        for path in SHELLS:
            try:
                await engine.containers.stat_file(self.container.id, path, True)
                return [path]
            except NotFound:
                continue
        return ["/bin/sh"]

    async def _write_input(self) -> None:
        assert self._input is not None
        while True:
            data = await self._input.get()
            if self._exec is None:
                return
            try:
                await self._exec.write(data)
            except OSError:
                return

    def _close_exec(self) -> None:
        session, self._exec = self._exec, None
        if session is not None:
            try:
                session.close()
            except OSError:
                log.debug("closing the exec session failed", exc_info=True)

    def _fail(self, message: str) -> None:
        self.state = "failed"
        self.failed.emit(message)

    def _on_error(self, message: str) -> None:
        self._close_exec()
        self._fail(message)


def not_running_message(name: str, paused: bool) -> str:
    if paused:
        return (f"{name} is paused: its processes are frozen, so a shell could not answer. "
                "Resume it (Ctrl+Shift+U) to open a terminal.")
    return (f"{name} is not running. Start it (Ctrl+Shift+S) to open a shell in it; the Files "
            "tab shows its files meanwhile.")


def no_shell_message(name: str, command: list[str], detail: str) -> str:
    what = " ".join(command) or "a shell"
    return (f"{name} has no {what} to run ({detail.rstrip('.')}). Many small images ship "
            "without a shell: type another program in the Shell box, or look at its files "
            "in the Files tab.")


__all__ += ["no_shell_message", "not_running_message"]
