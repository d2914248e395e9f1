"""The Terminal tab: keys as xterm sends them, the screen with scrollback, and a real
shell in a real container typed into through the widget."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from app.desktop.mainwindow import MainWindow
from app.desktop.terminal.keys import is_copy, is_paste, key_bytes, wants_key
from app.desktop.terminal.screen import TerminalScreen
from app.desktop.terminal.widget import TerminalWidget, colour
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish, select

K = Qt.Key
M = Qt.KeyboardModifier


# -- keys ---------------------------------------------------------------------------------


def test_keys_send_what_xterm_sends() -> None:
    none = M.NoModifier
    assert key_bytes(K.Key_A, none, "a") == b"a"
    assert key_bytes(K.Key_Eacute, none, "é") == "é".encode()
    assert key_bytes(K.Key_Return, none, "\r") == b"\r"
    assert key_bytes(K.Key_Backspace, none, "\x08") == b"\x7f"
    assert key_bytes(K.Key_Tab, none, "\t") == b"\t"
    assert key_bytes(K.Key_Backtab, M.ShiftModifier, "") == b"\x1b[Z"
    assert key_bytes(K.Key_C, M.ControlModifier, "\x03") == b"\x03"
    assert key_bytes(K.Key_D, M.ControlModifier, "\x04") == b"\x04"
    assert key_bytes(K.Key_BracketLeft, M.ControlModifier, "") == b"\x1b"
    assert key_bytes(K.Key_Up, none, "") == b"\x1b[A"
    assert key_bytes(K.Key_Up, none, "", cursor_keys=True) == b"\x1bOA"
    assert key_bytes(K.Key_Left, M.ControlModifier, "") == b"\x1b[1;5D"
    assert key_bytes(K.Key_Home, none, "") == b"\x1b[H"
    assert key_bytes(K.Key_Delete, none, "") == b"\x1b[3~"
    assert key_bytes(K.Key_PageUp, M.ShiftModifier, "") == b"\x1b[5;2~"
    assert key_bytes(K.Key_F1, none, "") == b"\x1bOP"
    assert key_bytes(K.Key_F5, none, "") == b"\x1b[15~"
    assert key_bytes(K.Key_B, M.AltModifier, "b") == b"\x1bb"
    assert key_bytes(K.Key_Shift, M.ShiftModifier, "") == b""


def test_the_terminal_keeps_ctrl_c_but_not_the_windows_shortcuts() -> None:
    assert wants_key(K.Key_C, M.ControlModifier, "\x03")  # interrupt, not "copy lines"
    assert wants_key(K.Key_K, M.ControlModifier, "\x0b")  # not "find container"
    assert wants_key(K.Key_A, M.NoModifier, "a")
    assert wants_key(K.Key_Tab, M.NoModifier, "\t")
    assert wants_key(K.Key_V, M.ControlModifier | M.ShiftModifier, "")  # paste
    assert not wants_key(K.Key_S, M.ControlModifier | M.ShiftModifier, "")  # Start
    assert not wants_key(K.Key_1, M.ControlModifier, "1")  # the Logs tab
    assert not wants_key(K.Key_F1, M.NoModifier, "")  # keyboard shortcuts
    assert is_copy(K.Key_C, M.ControlModifier | M.ShiftModifier)
    assert not is_copy(K.Key_C, M.ControlModifier)
    assert is_paste(K.Key_Insert, M.ShiftModifier)


# -- the screen ---------------------------------------------------------------------------


def test_screen_keeps_what_scrolled_off_and_answers_queries() -> None:
    answers: list[str] = []
    screen = TerminalScreen(columns=20, lines=3, history=5, respond=answers.append)
    screen.feed(b"".join(f"line {n}\r\n".encode() for n in range(10)))
    assert screen.lines_text()[-3:] == ["line 8", "line 9", ""]
    assert list(screen.history)[-1][0].data == "l"
    assert screen.lines_text()[:5] == [f"line {n}" for n in range(3, 8)]  # bounded: 5 kept
    assert screen.first_line == 3
    assert screen.line_text(screen.first_line) == "line 3"
    assert screen.text((4, 2), (5, 3)) == "ne 4\nline"
    screen.feed(b"\x1b[6n")  # where is the cursor? (busybox's shell asks)
    assert answers == ["\x1b[3;1R"]
    screen.feed(b"\x1b[?1h")
    assert screen.cursor_keys_mode
    screen.feed(b"\x1b[3J")  # clear the scrollback
    assert len(screen.history) == 0 and screen.first_line == 8


def test_shrinking_keeps_the_cursor_line_and_colours_are_kept() -> None:
    screen = TerminalScreen(columns=20, lines=10)
    screen.feed(b"$ prompt\r\n\x1b[31mred\x1b[0m plain\r\n$ ")
    screen.resize(2, 10)
    assert (screen.lines, screen.columns) == (2, 10)
    assert screen.lines_text()[-2:] == ["red plain", "$"]
    assert screen.line_text(0) == "$ prompt"  # went to the scrollback, not lost
    row = screen.line(screen.screen_top)
    assert row is not None and row[0].fg == "red" and row[4].fg == "default"
    screen.resize(5, 30)
    assert screen.cursor.y == 1
    assert colour("red", Qt.GlobalColor.black).name() == "#cc0000"  # type: ignore[arg-type]
    assert colour("ff8800", Qt.GlobalColor.black).name() == "#ff8800"  # type: ignore[arg-type]


def test_widget_sends_keys_pastes_and_copies(qtbot: Any) -> None:
    widget = TerminalWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    widget.show()
    sent: list[bytes] = []
    widget.input.connect(sent.append)
    qtbot.keyClicks(widget, "ls")
    qtbot.keyClick(widget, K.Key_Return)
    qtbot.keyClick(widget, K.Key_C, M.ControlModifier)
    qtbot.keyClick(widget, K.Key_Tab)
    assert b"".join(sent) == b"ls\r\x03\t"
    rows, columns = widget.grid_size()
    assert (widget.emulator.lines, widget.emulator.columns) == (rows, columns)
    widget.emulator.feed(b"hello world\r\n")
    widget.select((0, 0), (0, 4))
    assert widget.copy() == "hello"
    assert QGuiApplication.clipboard().text() == "hello"
    sent.clear()
    widget.emulator.feed(b"\x1b[?2004h")  # the shell asks for bracketed paste
    widget.paste("two\nlines")
    assert sent == [b"\x1b[200~two\rlines\x1b[201~"]
    widget.grab()  # paints without errors


# -- a real shell -------------------------------------------------------------------------


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


def _screen_has(session: Any, text: str) -> bool:
    return any(line.strip() == text for line in session.screen.lines_text())


def _prompts(session: Any) -> int:
    return sum(1 for line in session.screen.lines_text() if line.startswith("/ #"))


async def _process_running(container_id: str, command: str) -> None:
    """Poll the container's processes until ``command`` runs in it."""
    import asyncio

    from engine import Engine

    async with Engine() as engine:
        for _attempt in range(200):
            if any(p.command == command for p in await engine.containers.top(container_id)):
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{command} never ran")


@pytest.mark.gui
@pytest.mark.root
def test_type_echo_hello_into_a_containers_shell(window: MainWindow, run: Callable[..., Any],
                                                 busybox_image: str) -> None:
    terminal = window.plugins.terminal

    async def story() -> None:
        await make(busybox_image, "shell", ["sleep", "600"])
        await select(window, "shell", lambda c: c.state.status.can_exec(), "running")
        window.show_browser()  # Exec from anywhere, the image browser too, shows the tab
        window.container_actions.exec.trigger()  # Exec: the Terminal tab with a shell in it
        assert window.pages.currentWidget() is window.details
        assert window.details.current_tab() == "terminal"
        session = terminal.current_session()
        assert session is not None
        await wait_for(lambda: any(line.startswith("/ #") for line in
                                   session.screen.lines_text()), session.output,
                       what="the shell's prompt")
        assert session.command == ["/bin/sh"]  # busybox has no bash
        widget = terminal.current_terminal()
        assert widget is not None and widget.hasFocus()
        assert "skiff exec -it shell /bin/sh" in window.plugins.commands.history()

        QTest.keyClicks(widget, "echo hello")
        QTest.keyClick(widget, K.Key_Return)
        await wait_for(lambda: _screen_has(session, "hello"), session.output,
                       what="hello on the screen")

        QTest.keyClicks(widget, "printf '\\033[31mred\\033[0m\\n'")
        QTest.keyClick(widget, K.Key_Return)
        await wait_for(lambda: _screen_has(session, "red"), session.output, what="red text")
        screen = session.screen
        number = next(n for n in range(screen.first_line, screen.screen_top + screen.lines)
                      if screen.line_text(n) == "red")
        row = screen.line(number)
        assert row is not None and row[0].fg == "red"

        # Ctrl-C interrupts a running command; the prompt comes back.
        QTest.keyClicks(widget, "sleep 100; echo finished")
        QTest.keyClick(widget, K.Key_Return)
        await _process_running(session.container.id, "sleep 100")
        prompts = _prompts(session)
        QTest.keyClick(widget, K.Key_C, M.ControlModifier)
        await wait_for(lambda: _prompts(session) > prompts, session.output,
                       what="the prompt after Ctrl-C")
        QTest.keyClicks(widget, "echo after-interrupt")
        QTest.keyClick(widget, K.Key_Return)
        await wait_for(lambda: _screen_has(session, "after-interrupt"), session.output,
                       what="the shell after Ctrl-C", timeout=20)
        assert not _screen_has(session, "finished")

        # A second session in the same container.
        terminal.new_button.click()
        second = terminal.current_session()
        assert second is not None and second is not session
        assert len(terminal.page().sessions) == 2  # type: ignore[union-attr]
        await wait_for(lambda: any(line.startswith("/ #") for line in
                                   second.screen.lines_text()), second.output,
                       what="the second shell's prompt")
        terminal.page().setCurrentIndex(0)  # type: ignore[union-attr]
        QTest.keyClicks(widget, "ls --color=always /")
        QTest.keyClick(widget, K.Key_Return)
        await wait_for(lambda: any("bin" in line and "etc" in line for line in
                                   session.screen.lines_text()), session.output,
                       what="ls output")
        screenshot(window, "terminal")
        publish("terminal")

        # Resizing the widget resizes the terminal the shell sees.
        widget.resize(420, 260)
        rows, columns = widget.grid_size()
        assert (screen.lines, screen.columns) == (rows, columns)
        QTest.keyClicks(widget, "stty size")
        QTest.keyClick(widget, K.Key_Return)
        await wait_for(lambda: _screen_has(session, f"{rows} {columns}"), session.output,
                       what=f"stty size saying {rows} {columns}")

        # exit ends the session; the tab says so and keeps the text.
        QTest.keyClicks(widget, "exit 3")
        QTest.keyClick(widget, K.Key_Return)
        await wait_for(lambda: session.state == "ended", session.finished,
                       what="the shell to end")
        assert session.exit_code == 3
        assert widget.read_only
        assert "(ended)" in terminal.page().tabText(0)  # type: ignore[union-attr]

        # Removing the container closes its other shell and drops its tabs.
        from engine import Engine

        async with Engine() as engine:
            await engine.containers.remove(session.container.id, force=True)
        await wait_for(lambda: terminal.page(session.container.id) is None,
                       window.bridge.container_removed, what="the terminal to forget it")
        assert terminal.sessions() == []

    run(story(), timeout=180)


@pytest.mark.gui
@pytest.mark.root
def test_clear_messages_when_there_is_no_shell(window: MainWindow, run: Callable[..., Any],
                                               busybox_image: str) -> None:
    terminal = window.plugins.terminal

    async def story() -> None:
        await make(busybox_image, "idle", ["sleep", "600"], start=False)
        await select(window, "idle")
        window.show_tab("terminal")
        assert "idle is not running" in terminal.notice.text()
        assert terminal.stack.currentWidget() is terminal.notice
        assert not terminal.new_button.isEnabled()
        assert not window.container_actions.exec.isEnabled()

        await make(busybox_image, "noshell", ["sleep", "600"])
        await select(window, "noshell", lambda c: c.state.status.can_exec(), "running")
        first = terminal.current_session()
        assert first is not None  # the first visit opened the automatic shell
        terminal.shell.setEditText("/bin/no-such-shell")
        session = terminal.new_session()
        assert session is not None
        await wait_for(lambda: session.state == "failed", session.failed,
                       what="the exec to fail")
        assert "noshell has no /bin/no-such-shell to run" in window.statusBar().currentMessage()
        assert session not in terminal.sessions()  # its tab is gone, the first one stays
        assert first in terminal.sessions()

    run(story(), timeout=120)
