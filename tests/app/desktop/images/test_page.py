"""The Images page against the real engine and the ``skiff`` command line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.images.overview import ImageEntry
from app.desktop.images.page import ImagesPage
from app.desktop.mainwindow import MainWindow
from tests.app.desktop.cli import skiff
from tests.app.desktop.conftest import previewed, screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish

pytestmark = [pytest.mark.gui, pytest.mark.root]


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


def _entry(page: ImagesPage, tag: str) -> ImageEntry | None:
    return next((e for e in page.rows() if tag in e.tags), None)


async def _listed(page: ImagesPage, condition: Callable[[], Any], what: str) -> Any:
    page.refresh()
    return await wait_for(condition, page.changed, timeout=60, what=what)


def test_images_page_lists_what_the_cli_lists_and_acts_as_it_does(
        window: MainWindow, run: Callable[..., Any], qtmodeltester: Any, tmp_path: Path,
        busybox_multilayer_docker_archive: Path) -> None:
    page: ImagesPage = window.manage.images
    commands: list[str] = []
    page.command.connect(commands.append)
    messages: list[str] = []
    page.message.connect(messages.append)

    async def story() -> None:
        from engine import Engine

        async with Engine() as engine:
            multi = (await engine.images.load(busybox_multilayer_docker_archive))[0]
        user = await make("busybox:latest", "img-user", ["true"], start=False)
        window.manage.show("images")
        await _listed(page, lambda: _entry(page, "busybox:latest") and
                      _entry(page, "busybox-multi:latest"), "both images listed")
        qtmodeltester.check(page.model)
        cli_ids = set(skiff("image", "ls", "-q", "--no-trunc").split())
        assert {e.id for e in page.rows()} == cli_ids
        busybox = _entry(page, "busybox:latest")
        assert busybox is not None and user.name in busybox.containers
        screenshot(window, "images")

        # open: the layers, each with its step and the images sharing it
        page.select_where(lambda e: e.id == multi.id)
        page.a_open.trigger()
        await wait_for(lambda: page.detail.layers.rowCount() == len(multi.layers),
                       page.detail.layers.modelReset, what="the layers shown")
        qtmodeltester.check(page.detail.layers)
        history = skiff("image", "history", "--no-trunc", "--format", "{{.CreatedBy}}",
                        "busybox-multi:latest")
        for info in page.detail.layers.rows():
            assert info.row.made_by.split()[-1] in history
        shared = [i for i in page.detail.layers.rows() if "busybox:latest" in i.shared_with]
        assert shared, "the multi-layer image shares its base with busybox"
        assert commands[-1] == "skiff image history busybox-multi:latest"
        screenshot(window, "images-layers")

        # remove refuses an image in use: the question names the container
        page.select_where(lambda e: e.id == busybox.id)
        page.a_remove.trigger()
        assert "img-user" in page.dialog.text()
        page.dialog.reject()

        # tag, then the CLI sees the tag
        page.tag(_entry(page, "busybox-multi:latest"), "pagetest/multi:2")
        await _listed(page, lambda: _entry(page, "pagetest/multi:2"), "the new tag")
        assert "pagetest/multi" in skiff("image", "ls")
        assert commands[-1] == "skiff image tag busybox-multi:latest pagetest/multi:2"

        # save to a file
        archive = tmp_path / "multi.tar"
        page.save([_entry(page, "pagetest/multi:2")], archive)
        await wait_for(lambda: archive.exists() and archive.stat().st_size > 0,
                       page.message, timeout=60, what="the archive written")

        # a dangling image: forced out of its tags while a container uses it
        dangler = await make("pagetest/multi:2", "img-dangler", ["true"], start=False)
        page.remove([_entry(page, "pagetest/multi:2")], force=True)
        await _listed(page, lambda: not _entry(page, "pagetest/multi:2") and
                      not _entry(page, "busybox-multi:latest"), "the image untagged")
        assert commands[-1] == f"skiff image rm -f {multi.id[7:19]}"
        skiff("rm", dangler.name)
        await _listed(page, lambda: any(e.id == multi.id and not e.containers
                                        for e in page.rows()), "the image unused")
        page.ask_prune()
        shown = await previewed(page.dialog)
        assert multi.id[7:19] in shown
        screenshot(page.dialog, "images-prune")
        page.dialog.prune_button.click()
        await wait_for(lambda: any(m.startswith("Pruned") for m in messages), page.message,
                       timeout=60, what="the prune done")
        assert commands[-1] == "skiff image prune -f"
        ids = set(skiff("image", "ls", "-aq", "--no-trunc").split())
        assert multi.id not in ids and busybox.id in ids
        assert not {i[7:19] for i in ids} & set(shown)

    run(story(), timeout=300)
    publish("images")
    publish("images-layers")
    publish("images-prune")
