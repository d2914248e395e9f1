"""Desktop tests: offscreen Qt, a private config dir, Qt warnings fail the test.

``loop`` is a qasync event loop over pytest-qt's QApplication; ``run`` drives
a coroutine on it. ``wait_for`` waits for a condition by re-checking it when
given signals fire (no sleeping), with a timeout that names what was awaited.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

# Before any QApplication exists: offscreen, on a 1920x1200 screen (the plugin's
# default 800x800 screen would clamp restored window sizes).
_SCREENS = Path(tempfile.mkdtemp(prefix="skiff-qt-")) / "screens.json"
atexit.register(shutil.rmtree, _SCREENS.parent, True)  # after the last window is gone
_SCREENS.write_text('{"screens": [{"name": "test", "x": 0, "y": 0, "width": 1920, '
                    '"height": 1200, "logicalDpi": 96, "dpr": 1}]}')
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREENS}"
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime = tempfile.mkdtemp(prefix="skiff-xdg-runtime-")
    os.chmod(_runtime, 0o700)
    atexit.register(shutil.rmtree, _runtime, True)
    os.environ["XDG_RUNTIME_DIR"] = _runtime

T = TypeVar("T")

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts"

# Messages of the offscreen platform plugin itself, not of our code: it cannot
# resize native windows, which real platforms do.
_PLATFORM_NOISE = ("This plugin does not support propagateSizeHints()",
                   "This plugin does not support raise()",
                   "This plugin does not support setParent",
                   "This plugin does not support grabbing the keyboard",
                   "This plugin does not support QPlatformServices")  # no desktop to open URLs


@pytest.fixture(scope="session", autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """As the app does (utils/gcguard.py): worker threads must never free Qt objects."""
    import gc

    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test() -> Iterator[None]:
    import gc

    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def _fail_on_qt_warnings(qtlog: Any) -> Iterator[None]:
    from PySide6.QtCore import QtMsgType

    yield
    bad = [r for r in qtlog.records
           if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
           and not any(noise in r.message for noise in _PLATFORM_NOISE)]
    if bad:
        pytest.fail("Qt warnings: " + "; ".join(r.message for r in bad), pytrace=False)


@pytest.fixture
def loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    import qasync

    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    try:
        yield event_loop
    finally:
        event_loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture
def run(loop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    def run_coroutine(awaitable: Awaitable[T], timeout: float = 120) -> T:
        async def bounded() -> T:
            return await asyncio.wait_for(awaitable, timeout)

        # Not run_until_complete: qasync's version processes Qt events once more after
        # the loop stopped, which steps the bridge's background tasks with no running
        # loop. Whatever is pending simply waits for the next run.
        future = asyncio.ensure_future(bounded(), loop=loop)
        future.add_done_callback(lambda _f: loop.stop())
        loop.run_forever()
        return future.result()

    return run_coroutine


async def wait_for(condition: Callable[[], Any], *signals: Any, timeout: float = 30,
                   what: str = "the condition") -> Any:
    """The condition's value once truthy; re-checked whenever a signal fires."""
    value = condition()
    if value:
        return value
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def check(*_args: Any) -> None:
        if done.done():
            return
        try:
            result = condition()
        except Exception as exc:  # a broken condition fails the wait, not the slot
            done.set_exception(exc)
            return
        if result:
            done.set_result(result)

    for signal in signals:
        signal.connect(check)
    try:
        return await asyncio.wait_for(done, timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None
    finally:
        for signal in signals:
            try:
                signal.disconnect(check)
            except (RuntimeError, TypeError):
                pass


async def previewed(dialog: Any) -> list[str]:
    """What a PruneDialog previews for its choice, once the engine's dry run answered."""
    await wait_for(lambda: dialog.shown == dialog.choice(), dialog.preview_shown, timeout=60,
                   what="the prune preview")
    return list(dialog.previewed())


def screenshot(widget: Any, name: str) -> Path:
    """Save ``widget`` as tests/_artifacts/<name>.png (the README copies them)."""
    from PySide6.QtWidgets import QWidget

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Layouts update on posted events; settle them without spinning the event loop
    # (which, inside a running qasync task, could step other tasks re-entrantly).
    for child in [widget, *widget.findChildren(QWidget)]:
        layout = child.layout()
        if layout is not None:
            layout.activate()
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path
