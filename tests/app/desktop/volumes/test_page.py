"""The Volumes page against the real engine and the ``skiff`` command line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.mainwindow import MainWindow
from app.desktop.volumes.data import VolumeEntry
from app.desktop.volumes.page import VolumesPage
from engine.containers.config import MountSpec
from tests.app.desktop.cli import skiff
from tests.app.desktop.conftest import previewed, screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish

pytestmark = [pytest.mark.gui, pytest.mark.root]


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)
    left = set(skiff("volume", "ls", "-q").split()) & {"vp-data", "vp-spare", "vp-made"}
    if left:
        skiff("volume", "rm", "-f", *sorted(left))


def _entry(page: VolumesPage, name: str) -> VolumeEntry | None:
    return next((e for e in page.rows() if e.name == name), None)


async def _listed(page: VolumesPage, condition: Callable[[], Any], what: str) -> Any:
    page.refresh()
    return await wait_for(condition, page.changed, timeout=60, what=what)


def test_volumes_page_lists_what_the_cli_lists_and_acts_as_it_does(
        window: MainWindow, run: Callable[..., Any], qtmodeltester: Any,
        tmp_path: Path) -> None:
    page: VolumesPage = window.manage.volumes
    commands: list[str] = []
    page.command.connect(commands.append)

    async def story() -> None:
        skiff("volume", "create", "vp-spare")
        await make("busybox:latest", "vol-user", ["sh", "-c", "echo hi > /data/f"],
                   mounts=(MountSpec("volume", "/data", "vp-data"),))
        window.manage.show("volumes")
        await _listed(page, lambda: _entry(page, "vp-data") and _entry(page, "vp-spare"),
                      "the volumes listed")
        qtmodeltester.check(page.model)
        assert {e.name for e in page.rows()} == set(skiff("volume", "ls", "-q").split())
        data = _entry(page, "vp-data")
        assert data is not None and data.containers == ["vol-user"]

        # create
        page.create_volume("vp-made")
        await _listed(page, lambda: _entry(page, "vp-made"), "the new volume")
        assert commands[-1] == "skiff volume create vp-made"
        assert "vp-made" in skiff("volume", "ls", "-q").split()
        screenshot(window, "volumes")

        # browse its files, mounted by a container or not; copy out and in
        page.select_where(lambda e: e.name == "vp-data")
        page.a_browse.trigger()
        assert page.files is not None
        tree = page.files.files
        await wait_for(lambda: tree.model.directory_loaded("/"), tree.model.loaded,
                       timeout=60, what="the volume's files")
        assert [e.name for e in tree.model.entries("/")] == ["f"]
        assert tree.target_directory() == "/"  # a copy in lands at the volume's top
        screenshot(page.files, "volume-files")
        await tree.copy_out("/f", tmp_path / "f")
        assert (tmp_path / "f").read_text() == "hi\n"
        (tmp_path / "g").write_text("from the window\n")
        await tree.copy_in(tmp_path / "g", tree.target_directory())
        skiff("cp", "vol-user:/data/g", str(tmp_path / "g2"))
        assert (tmp_path / "g2").read_text() == "from the window\n"
        page.files.close()
        page.select_where(lambda e: e.name == "vp-spare")
        assert _entry(page, "vp-spare").containers == []  # type: ignore[union-attr]
        assert page.a_browse.isEnabled()
        page.a_browse.trigger()
        spare = page.files.files
        (tmp_path / "h").write_text("into a volume no container mounts\n")
        await spare.copy_in(tmp_path / "h", spare.target_directory())
        await wait_for(lambda: [e.name for e in spare.model.entries("/")] == ["h"],
                       spare.model.loaded, timeout=60, what="the copied file listed")
        assert skiff("run", "--rm", "-v", "vp-spare:/v", "busybox", "cat", "/v/h") == \
            "into a volume no container mounts\n"
        page.files.close()

        # remove refuses a volume in use: the question names the container
        page.select_where(lambda e: e.name == "vp-data")
        page.a_remove.trigger()
        assert "vol-user" in page.dialog.text()
        page.dialog.reject()

        # prune: the preview is what goes
        page.ask_prune()
        shown = await previewed(page.dialog)
        assert {"vp-spare", "vp-made"} <= set(shown) and "vp-data" not in shown
        screenshot(page.dialog, "volumes-prune")
        page.dialog.prune_button.click()
        await _listed(page, lambda: not _entry(page, "vp-made"), "the prune done")
        assert commands[-1] == "skiff volume prune -f"
        left = set(skiff("volume", "ls", "-q").split())
        assert not left & set(shown) and "vp-data" in left

    run(story(), timeout=300)
    publish("volumes")
    publish("volume-files")
