"""The Terminal tab: shells inside the selected container, several per container.

Each container gets its own row of session tabs; they keep running while
another container is shown and come back when it is selected again. The
first visit to a running container's terminal opens a shell by itself (as
Kitematic's Exec did); "New Shell" opens more. The Shell box picks the
program: automatic (bash if the container has it, else sh) or any command.
When there is nothing to run a shell in, the tab says why and what to do.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import Bridge
from app.desktop.terminal.session import (
    AUTOMATIC,
    TerminalSession,
    exec_command_line,
    not_running_message,
)
from app.desktop.terminal.widget import TerminalWidget
from engine import Container, Status

__all__ = ["TerminalView"]

AUTOMATIC_TEXT = "Automatic (bash, else sh)"


class _Page(QTabWidget):
    """One container's sessions."""

    def __init__(self, container_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.container_id = container_id
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setDocumentMode(True)
        self.setAccessibleName("Terminal sessions")
        self.sessions: dict[TerminalWidget, TerminalSession] = {}
        self.opened = 0


class TerminalView(QWidget):
    command = Signal(str)  # the skiff command for what the user just did
    message = Signal(str)  # for the status bar

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Terminal")
        self.bridge = bridge
        self.container: Container | None = None
        self.new_button = QPushButton("New Shell", self)
        self.new_button.setAccessibleName("New shell")
        self.new_button.setToolTip("Open another shell in this container")
        self.new_button.clicked.connect(self.new_session)
        shell_label = QLabel("Shell:", self)
        self.shell = QComboBox(self)
        self.shell.setEditable(True)
        self.shell.addItems([AUTOMATIC_TEXT, "/bin/sh", "/bin/bash"])
        self.shell.setAccessibleName("Shell command")
        self.shell.setToolTip("The program new sessions run: automatic picks bash when the "
                              "container has it, else sh; or type any command")
        self.shell.setMinimumContentsLength(22)
        shell_label.setBuddy(self.shell)
        self.status = QLabel(self)
        self.status.setAccessibleName("Terminal status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice = QLabel(self)
        self.notice.setAccessibleName("Terminal message")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setMargin(24)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.notice)
        self._pages: dict[str, _Page] = {}
        top = QHBoxLayout()
        top.addWidget(self.new_button)
        top.addWidget(shell_label)
        top.addWidget(self.shell)
        top.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self._update()

    # -- the container --------------------------------------------------------------------

    def set_container(self, container: Container | None) -> None:
        self.container = container
        if container is not None:
            for page in self._pages.values():
                for session in page.sessions.values():
                    if session.container.id == container.id:
                        session.container = container
        self._update()
        if container is not None and self.isVisible():
            self._open_first()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._open_first()

    def _open_first(self) -> None:
        """A shell the first time a running container's terminal is looked at."""
        container = self.container
        if container is not None and container.id not in self._pages and \
                container.state.status.can_exec():
            self.new_session()

    def ensure_session(self) -> None:
        """Exec: a live shell for the container, opening one when there is none."""
        page = self.page()
        if page is not None and any(s.state in ("starting", "running")
                                    for s in page.sessions.values()):
            current = page.currentWidget()
            if current is not None:
                current.setFocus()
            return
        self.new_session()

    def page(self, container_id: str | None = None) -> _Page | None:
        if container_id is None:
            container_id = self.container.id if self.container is not None else ""
        return self._pages.get(container_id)

    def current_terminal(self) -> TerminalWidget | None:
        page = self.page()
        widget = page.currentWidget() if page is not None else None
        return widget if isinstance(widget, TerminalWidget) else None

    def current_session(self) -> TerminalSession | None:
        page = self.page()
        terminal = self.current_terminal()
        return page.sessions.get(terminal) if page is not None and terminal is not None \
            else None

    def sessions(self) -> list[TerminalSession]:
        return [s for page in self._pages.values() for s in page.sessions.values()]

    # -- sessions ---------------------------------------------------------------------------

    def shell_command(self) -> str:
        text = self.shell.currentText().strip()
        return AUTOMATIC if text in ("", AUTOMATIC_TEXT) else text

    def new_session(self) -> TerminalSession | None:
        container = self.container
        if container is None:
            return None
        if not container.state.status.can_exec():
            self._show_notice(not_running_message(container.name,
                                                  container.state.status is Status.PAUSED))
            return None
        page = self._pages.get(container.id)
        if page is None:
            page = _Page(container.id, self)
            page.tabCloseRequested.connect(lambda i, p=page: self._close_tab(p, i))
            page.currentChanged.connect(lambda _i: self._update_status())
            self._pages[container.id] = page
            self.stack.addWidget(page)
        terminal = TerminalWidget(parent=page)
        rows, columns = self._size_for(page, terminal)
        session = TerminalSession(self.bridge, container, self.shell_command(), rows, columns,
                                  self)
        terminal.set_emulator(session.screen)
        page.sessions[terminal] = session
        page.opened += 1
        terminal.setProperty("number", page.opened)
        index = page.addTab(terminal, f"{page.opened}: shell")
        page.setCurrentIndex(index)
        terminal.input.connect(session.write)
        terminal.size_changed.connect(session.resize)
        session.output.connect(terminal.screen_changed)
        session.started.connect(lambda command, s=session, t=terminal: self._on_started(s, t,
                                                                                         command))
        session.finished.connect(lambda code, s=session, t=terminal: self._on_finished(s, t,
                                                                                        code))
        session.failed.connect(lambda text, s=session, t=terminal: self._on_failed(s, t, text))
        self.stack.setCurrentWidget(page)
        session.start()
        if self.isVisible():
            terminal.setFocus()
        self._update_status()
        return session

    def _size_for(self, page: _Page, terminal: TerminalWidget) -> tuple[int, int]:
        """The grid the new terminal will have: the page's current one when shown."""
        current = page.currentWidget()
        if isinstance(current, TerminalWidget) and current.isVisible():
            return current.emulator.lines, current.emulator.columns
        if page.isVisible():
            terminal.resize(page.size())
            rows, columns = terminal.grid_size()
            if rows > 2 and columns > 10:
                return rows, columns
        return 24, 80

    def _on_started(self, session: TerminalSession, terminal: TerminalWidget,
                    command: list[str]) -> None:
        program = command[0].rsplit("/", 1)[-1] if command else "shell"
        self._set_title(session, terminal, f"{terminal.property('number')}: {program}")
        self.command.emit(exec_command_line(session.container.name, command))
        self._update_status()

    def _on_finished(self, session: TerminalSession, terminal: TerminalWidget,
                     code: int) -> None:
        session.screen.feed(f"\r\n\x1b[2m[The shell ended with code {code}. Press New Shell "
                            "for another.]\x1b[0m\r\n".encode())
        terminal.read_only = True
        terminal.screen_changed()
        page = self._pages.get(session.container.id)
        if page is not None and page.indexOf(terminal) >= 0:
            self._set_title(session, terminal,
                            f"{page.tabText(page.indexOf(terminal))} (ended)")
        self._update_status()

    def _on_failed(self, session: TerminalSession, terminal: TerminalWidget, text: str) -> None:
        page = self._pages.get(session.container.id)
        if page is not None:
            self._remove(page, terminal)
        if self.container is not None and self.container.id == session.container.id:
            self._show_notice(text)
        self.message.emit(text)

    def _set_title(self, session: TerminalSession, terminal: TerminalWidget,
                   title: str) -> None:
        page = self._pages.get(session.container.id)
        index = page.indexOf(terminal) if page is not None else -1
        if page is not None and index >= 0:
            page.setTabText(index, title)

    def _close_tab(self, page: _Page, index: int) -> None:
        widget = page.widget(index)
        if isinstance(widget, TerminalWidget):
            self._remove(page, widget)
        if not page.sessions:
            self._update()

    def _remove(self, page: _Page, terminal: TerminalWidget) -> None:
        session = page.sessions.pop(terminal, None)
        if session is not None:
            session.close()
            session.deleteLater()
        index = page.indexOf(terminal)
        if index >= 0:
            page.removeTab(index)
        terminal.deleteLater()

    def forget(self, container_id: str) -> None:
        """The container is gone: end its sessions and drop their tabs."""
        page = self._pages.pop(container_id, None)
        if page is None:
            return
        for terminal in list(page.sessions):
            self._remove(page, terminal)
        self.stack.removeWidget(page)
        page.deleteLater()
        self._update()

    def close_all(self) -> None:
        """End every session (the window is closing)."""
        for page in self._pages.values():
            for session in page.sessions.values():
                session.close()

    # -- showing ------------------------------------------------------------------------------

    def _show_notice(self, text: str) -> None:
        self.notice.setText(text)
        page = self.page()
        if page is None or not page.sessions:
            self.stack.setCurrentWidget(self.notice)
        else:
            self.message.emit(text)

    def _update(self) -> None:
        container = self.container
        can = container is not None and container.state.status.can_exec()
        self.new_button.setEnabled(can)
        page = self.page()
        if page is not None and page.sessions:
            self.stack.setCurrentWidget(page)
        else:
            if container is None:
                self.notice.setText("Pick a container to open a shell in it.")
            elif not can:
                self.notice.setText(not_running_message(
                    container.name, container.state.status is Status.PAUSED))
            elif page is not None:
                self.notice.setText(f"No shell is open in {container.name}. Press New Shell "
                                    "to open one.")
            self.stack.setCurrentWidget(self.notice)
        self._update_status()

    def _update_status(self) -> None:
        session = self.current_session()
        if session is None or not session.command:
            self.status.setText("")
            return
        line = exec_command_line(session.container.name, session.command)
        state = {"running": "", "ended": f" — ended ({session.exit_code})"}.get(
            session.state, f" — {session.state}")
        self.status.setText(f"{line}{state}")
        self.status.setToolTip("The same shell from a terminal on this computer")
