"""The real window on the real engine, for the tests of the tabs beyond Kitematic.

``live_window`` builds and opens the window (offscreen, private settings) and
removes every container afterwards; ``make`` creates (and starts) a busybox
container through a second Engine, the way the CLI would; ``select`` shows a
container's details once the sidebar lists it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.main import build
from app.desktop.mainwindow import MainWindow
from engine.containers.model import Container
from tests.app.desktop.conftest import ARTIFACTS, wait_for

__all__ = ["DOCS", "badge_of", "entry_named", "live_window", "make", "publish", "select"]

DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _require_engine() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the engine's helper mounts, unshares and writes cgroups")


def live_window(qapp: Any, run: Callable[..., Any], tmp_path: Path) -> Iterator[MainWindow]:
    _require_engine()
    bridge, window = build(qapp, settings_path=tmp_path / "desktop.conf")
    window.resize(1180, 760)
    window.show()
    assert run(bridge.open()), window.messages.messages()
    try:
        yield window
    finally:
        window.close()
        run(bridge.close())
        run(_remove_all())


async def _remove_all() -> None:
    from engine import Engine

    async with Engine() as engine:
        for container in await engine.containers.list(all=True):
            await engine.containers.remove(container.id, force=True)


async def make(image_ref: str, name: str, cmd: list[str], *, start: bool = True,
               **config: Any) -> Container:
    """A container made the CLI's way (another Engine), started unless ``start`` is False."""
    from engine import Engine
    from engine.containers.config import ContainerConfig

    async with Engine() as engine:
        image = await engine.images.get(image_ref)
        container = await engine.containers.create(ContainerConfig(
            image=image_ref, image_id=image.id, cmd=cmd, **config), name)
        if start:
            container = await engine.containers.start(container.id)
        return container


def entry_named(window: MainWindow, name: str) -> Any:
    return next((e for e in window.containers.entries() if e.name == name), None)


def badge_of(window: MainWindow, name: str) -> str:
    """The sidebar's badge of ``name`` ("Running", "Downloading 40%"...), "" if not listed."""
    entry = entry_named(window, name)
    return entry.badge.text if entry is not None else ""


async def select(window: MainWindow, name: str, ready: Callable[[Container], bool]
                 = lambda c: True, what: str = "listed", timeout: float = 30) -> Container:
    """Wait until the sidebar lists ``name`` in a state ``ready`` accepts; select it."""
    model = window.containers

    def found() -> Any:
        entry = entry_named(window, name)
        return entry if entry is not None and entry.container is not None and \
            ready(entry.container) else None

    entry = await wait_for(found, model.rowsInserted, model.dataChanged, timeout=timeout,
                           what=f"{name} to be {what}")
    assert window.select(entry.key)
    container = window.current()
    assert container is not None and container.name == name
    return container


def publish(name: str) -> Path:
    """Copy the test artifact ``name``.png into docs/screenshots/ (the README shows it)
    when SKIFF_SCREENSHOTS=docs asks for it: a test run leaves the clone as it was."""
    source = ARTIFACTS / f"{name}.png"
    if os.environ.get("SKIFF_SCREENSHOTS") != "docs":
        return source
    DOCS.mkdir(parents=True, exist_ok=True)
    target = DOCS / f"{name}.png"
    shutil.copyfile(source, target)
    return target
