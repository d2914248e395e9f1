"""The Disk usage page against the real engine and ``skiff system df``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.disk.page import DiskPage
from app.desktop.mainwindow import MainWindow
from tests.app.desktop.cli import skiff
from tests.app.desktop.conftest import previewed, screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish

pytestmark = [pytest.mark.gui, pytest.mark.root]


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


def test_disk_page_counts_what_system_df_counts_and_reclaims_with_a_preview(
        window: MainWindow, run: Callable[..., Any]) -> None:
    page: DiskPage = window.manage.disk
    commands: list[str] = []
    page.command.connect(commands.append)

    async def story() -> None:
        stopped = await make("busybox:latest", "du-stopped",
                             ["dd", "if=/dev/zero", "of=/big", "bs=1024", "count=64"])
        running = await make("busybox:latest", "du-running",
                             ["sh", "-c", "echo hello from du-running; sleep 300"])
        await wait_for(lambda: "du-stopped" in skiff("ps", "-a", "--filter", "status=exited",
                                                     "--format", "{{.Names}}"),
                       window.bridge.containers_changed, timeout=60, what="du-stopped exited")
        window.manage.show("disk")
        await wait_for(lambda: any(c.container.id == stopped.id and c.size_rw >= 64 * 1024
                                   for c in page.usage.disk.containers) if page.usage else
                       False, page.changed, timeout=60, what="the figures")
        df = [line.split("\t") for line in skiff(
            "system", "df", "--format", "{{.Type}}\t{{.TotalCount}}\t{{.Active}}").splitlines()]
        figures = {k.title: (str(k.count), str(k.active)) for k in page.kinds}
        for kind, total, active in df:
            title = {"Local Volumes": "Local volumes", "Build Cache": "Build cache"}.get(kind,
                                                                                        kind)
            assert figures[title] == (total, active), kind
        assert commands[-1] == "skiff system df"
        containers = next(k for k in page.kinds if k.key == "containers")
        assert containers.can_reclaim and page.buttons["containers"].isEnabled()
        screenshot(window, "disk-usage")

        # containers: the preview lists the stopped ones, and that is what goes
        page.reclaim("containers")
        shown = await previewed(page.dialog)
        assert "du-stopped" in shown and "du-running" not in shown
        page.dialog.prune_button.click()
        await wait_for(lambda: "du-stopped" not in skiff("ps", "-a", "--format",
                                                         "{{.Names}}"),
                       page.changed, timeout=60, what="the stopped containers removed")
        assert commands[-2] == "skiff container prune -f"
        names = set(skiff("ps", "-a", "--format", "{{.Names}}").split())
        assert "du-running" in names and not names & set(shown)

        # logs: every container's log, listed first, then deleted
        await wait_for(lambda: page.usage is not None and
                       page.usage.log_sizes.get(running.id, 0) > 0 and
                       page.buttons["logs"].isEnabled(), page.changed, timeout=60,
                       what="du-running's log counted")
        page.reclaim("logs")
        page.dialog.choose("all")
        assert "du-running" in await previewed(page.dialog)
        page.dialog.prune_button.click()
        await wait_for(lambda: page.usage is not None and
                       page.usage.log_sizes.get(running.id, 0) == 0, page.changed, timeout=60,
                       what="du-running's log deleted")
        assert skiff("logs", "du-running") == ""

        # images: their page's preview, set to every unused image
        page.reclaim("images")
        images = window.manage.images
        await wait_for(lambda: images.dialog is not None and images.dialog.isVisible(),
                       images.changed, timeout=60, what="the image prune preview")
        assert images.dialog.choice() == "all" and window.manage.current() == "images"
        images.dialog.reject()

    run(story(), timeout=300)
    publish("disk-usage")
