"""The image list's SIZE: one image ID, one size, whether it was pulled or imported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.mainwindow import MainWindow
from tests.app.desktop.conftest import wait_for
from tests.app.desktop.livewindow import live_window


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


def _sizes(window: MainWindow, image_id: str) -> dict[str, str]:
    """Each listed name of the image, with the Size column's text."""
    model = window.images
    return {row.ref: model.index(number, 4).data() for number, row in enumerate(model.rows())
            if row.image.id == image_id}


@pytest.mark.gui
@pytest.mark.root
def test_pulled_and_imported_show_one_size(window: MainWindow, run: Callable[..., Any],
                                           plain_registry: Any, busybox_docker_archive: Path,
                                           busybox_oci_archive: Path) -> None:
    browser = window.browser
    pulled = f"{plain_registry.host}/test/busybox:1.1"

    async def story() -> None:
        from engine import Engine

        async with Engine() as engine:  # pulled as the CLI would, gzip-compressed layers
            image = await engine.images.pull(pulled)
        await wait_for(lambda: len(_sizes(window, image.id)) >= 2, window.images.modelReset,
                       timeout=30, what="the pulled image listed")
        first = _sizes(window, image.id)
        assert len(set(first.values())) == 1, first
        notices: list[str] = []
        browser.notice_changed.connect(notices.append)
        # gzip layers, then plain tars: the session's busybox ends as it began (the
        # registry's gzip blob gone again, so later pulls download it)
        for archive in (busybox_oci_archive, busybox_docker_archive):
            notices.clear()
            browser.import_file(archive)
            await wait_for(lambda: any(n.startswith("Imported") for n in notices),
                           browser.notice_changed, timeout=60, what=f"{archive.name} imported")
            await wait_for(lambda: _sizes(window, image.id).keys() >= first.keys(),
                           window.images.modelReset, timeout=30, what="the list refreshed")
            assert set(_sizes(window, image.id).values()) == set(first.values())

    run(story(), timeout=180)
