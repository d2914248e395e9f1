"""The image browser on the real engine: a pull cancelled midway or failing, a private
registry with a login, a catalog read again, an import that fails (offscreen, as root,
private SKIFF_ROOT)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.containers.createjob import create_container
from app.desktop.images.browser import LOCAL
from app.desktop.mainwindow import MainWindow
from tests.app.desktop.conftest import wait_for
from tests.app.desktop.livewindow import badge_of, entry_named, live_window

pytestmark = [pytest.mark.gui, pytest.mark.root]


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


def test_cancel_a_pull_and_registry_errors(window: MainWindow, run: Callable[..., Any],
                                           fresh_registry: Any, big_oci: Path) -> None:
    fresh_registry.push(big_oci, "latest", "test/big:latest")

    async def story() -> None:
        bridge = window.bridge
        job = create_container(bridge, f"{fresh_registry.host}/test/big:latest",
                               cmd=["true"])
        assert badge_of(window, "big").startswith("Downloading")

        def midway() -> None:
            if any(0 < layer.current < layer.total for layer in job.layers.layers()):
                job.cancel()

        job.progressed.connect(midway)
        await wait_for(lambda: job.phase in ("cancelled", "done", "failed"), job.phase_changed,
                       timeout=120, what="the pull to end")
        assert job.phase == "cancelled"
        assert not job.layers.complete
        assert entry_named(window, "big") is None
        assert window.messages.messages() == []
        from engine import Engine

        async with Engine() as engine:
            assert "big" not in [c.name for c in await engine.containers.list(all=True)]

        missing = create_container(bridge, f"{fresh_registry.host}/test/nothing:1.0")
        await wait_for(lambda: missing.phase == "failed", missing.phase_changed, timeout=60,
                       what="the failed pull")
        assert missing.error.startswith(
            f"Could not create a container from {fresh_registry.host}/test/nothing:1.0: ")
        assert "Traceback" not in missing.error
        assert window.messages.messages() == [missing.error]
        assert entry_named(window, "nothing") is None

    run(story(), timeout=180)


def test_a_private_registry_with_a_login(window: MainWindow, run: Callable[..., Any],
                                         basic_registry: Any) -> None:
    async def story() -> None:
        browser = window.browser
        window.show_browser()
        user, password = basic_registry.credentials
        dialog = browser.ask_registry()
        dialog.address.setText(basic_registry.host)
        dialog.username.setText(user)
        dialog.password.setText("wrong")
        dialog._on_ok()
        await wait_for(lambda: browser.notice.isVisible()
                       and browser.notice.text().startswith("Could not log in"),
                       browser.notice_changed, timeout=30, what="the refused login")
        assert "password" in browser.notice.text()
        assert basic_registry.host not in browser.registries
        dialog = browser.ask_registry()
        dialog.address.setText(basic_registry.host)
        dialog.username.setText(user)
        dialog.password.setText(password)
        dialog._on_ok()
        name = f"{basic_registry.host}/private/busybox"
        await wait_for(lambda: browser.select_remote(name), browser.results.modelReset,
                       timeout=30, what="the private catalog")
        assert browser.registries == [basic_registry.host]
        assert window.settings.registries == [basic_registry.host]

    run(story(), timeout=120)


def test_refresh_reads_a_catalog_again_and_each_source_keeps_its_search(
        window: MainWindow, run: Callable[..., Any], tmp_path: Path, busybox_oci: Path) -> None:
    from tests.fixtures.registry import LocalRegistry

    registry = LocalRegistry(tmp_path / "registry")
    registry.start()
    try:
        registry.push(busybox_oci, "latest", "first/busybox:latest")

        async def story() -> None:
            browser = window.browser
            window.show_browser()
            browser.add_registry_source(registry.host)
            await wait_for(lambda: browser.select_remote(f"{registry.host}/first/busybox"),
                           browser.results.modelReset, timeout=30, what="the catalog")
            registry.push(busybox_oci, "latest", "second/busybox:latest")
            window.a_refresh.trigger()  # F5
            await wait_for(lambda: browser.select_remote(f"{registry.host}/second/busybox"),
                           browser.results.modelReset, timeout=30,
                           what="the newly pushed repository after Refresh")
            # A registry's filter text stays with the registry, not the local list.
            browser.query.setText("second")
            browser.set_source(LOCAL)
            assert browser.query.text() == ""
            assert browser.local_proxy.filterRegularExpression().pattern() == ""
            browser.set_source(f"registry:{registry.host}")
            assert browser.query.text() == "second"

        run(story(), timeout=120)
    finally:
        registry.close()


def test_a_failed_import_replaces_its_notice(window: MainWindow, run: Callable[..., Any],
                                             tmp_path: Path) -> None:
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"not a tar archive at all" * 40)

    async def story() -> None:
        browser = window.browser
        window.show_browser()
        browser.import_file(broken)
        assert browser.notice.text().startswith("Importing broken.tar")
        await wait_for(lambda: not browser.notice.text().startswith("Importing"),
                       browser.notice_changed, timeout=60, what="the import to fail")
        assert browser.notice.isVisible() and "broken.tar" in browser.notice.text()

    run(story(), timeout=90)
