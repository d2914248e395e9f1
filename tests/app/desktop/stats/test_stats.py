"""The Stats tab: samples as chart columns, and a busy container's CPU near one core."""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.main import build
from app.desktop.mainwindow import MainWindow
from app.desktop.stats.series import StatsSeries
from app.desktop.stats.view import process_columns
from app.desktop.widgets.rowtable import RowTable
from engine.containers.config import Resources
from engine.containers.model import ProcessInfo, Stats
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish, select

S = 1_000_000_000


def sample(t: float, cpu: float = 50.0, rx: int = 0, read: int = 0, memory: int = 1000) -> Stats:
    return Stats("c" * 64, "web", int(t * S), cpu, memory, 4000, rx, 0, read, 0, 2)


def test_counters_become_rates_and_gaps_break_the_lines() -> None:
    series = StatsSeries(seconds=100)
    series.extend([sample(10, rx=0), sample(11, rx=500), sample(12, rx=1500, read=4096)])
    assert list(series.rx)[1:] == [500.0, 1000.0]
    assert math.isnan(series.rx[0])  # no rate before the second sample
    assert series.latest("read") == 4096.0
    series.append(sample(12, rx=9999))  # the same instant again (history meets live)
    assert len(series) == 3
    series.append(sample(40, rx=100))  # the app was closed for a while; counters restarted
    assert math.isnan(series.cpu[3])  # a break in the line, just after the old point
    assert series.times[3] == 13.0
    assert series.cpu[4] == 50.0 and math.isnan(series.rx[4])
    series.append(sample(41, rx=50))  # a counter going down is not a negative rate
    assert series.rx[-1] == 0.0
    series.append(sample(80, cpu=0.0))  # after a gap, 0.0 means "not measured yet"
    assert math.isnan(series.cpu[-1])
    series.append(sample(81, cpu=0.0))
    assert series.cpu[-1] == 0.0
    series.append(sample(200))
    assert series.times[0] >= 100  # older than 100 s is dropped
    assert series.peak("memory") == 1000.0


def test_process_table_model(qtmodeltester: Any) -> None:
    model = RowTable(process_columns())
    model.set_rows([ProcessInfo(41, "root", "sh -c while :; do :; done", 99.5, 1 << 20),
                    ProcessInfo(7, "nobody", "sleep 600", 0.0, 4096)])
    qtmodeltester.check(model)
    assert model.index(0, 2).data() == "99.5"
    assert model.index(1, 4).data() == "sleep 600"
    assert model.index(0, 0).data(RowTable.SortRole) == 41
    model.set_rows([ProcessInfo(41, "root", "sh", 1.0, 1)])
    qtmodeltester.check(model)
    assert model.rowCount() == 1


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


BUSY = ["sh", "-c", "while :; do :; done"]
#: the share of a core the busy loop gets at least: one core is 100 %, but a test machine
#: busy with other work gives it less (never none); what matters is that it shows
BUSY_CPU = 25


@pytest.mark.gui
@pytest.mark.root
def test_a_busy_container_shows_one_core(window: MainWindow, run: Callable[..., Any],
                                         busybox_image: str, tmp_path: Path,
                                         qapp: Any) -> None:
    stats = window.plugins.stats

    async def story() -> None:
        await make(busybox_image, "quiet", ["sleep", "600"])
        await make(busybox_image, "busy", BUSY, resources=Resources(memory=64 << 20,
                                                                    pids_limit=100))
        await select(window, "busy", lambda c: c.state.status.is_active, "running")
        window.show_tab("stats")
        assert window.details.current_tab() == "stats"
        # One core is 100 %; a loaded test machine may give it less, never none.
        await wait_for(lambda: stats.cpu.latest() >= BUSY_CPU, window.plugins.feed.sampled,
                       timeout=60, what=f"CPU climbing (now {stats.cpu.latest():.0f} %)")
        assert stats.cpu.latest() < 250
        await wait_for(lambda: len(stats.series) >= 12, window.plugins.feed.sampled,
                       timeout=60, what="a few seconds of samples")
        assert stats.memory.limit_line.isVisible()
        assert stats.memory.limit_line.value() == 64 << 20
        assert stats.series.latest("pids") >= 1
        assert "of 64.0 MiB" in stats.memory.getPlotItem().titleLabel.text
        await wait_for(lambda: any("while" in p.command for p in stats.processes.rows()),
                       stats.processes.modelReset, stats.processes.dataChanged,
                       timeout=30, what="the busy loop in the process list")
        busy_loop = next(p for p in stats.processes.rows() if "while" in p.command)
        assert busy_loop.pid > 0 and busy_loop.user == "root"
        screenshot(window, "stats")
        publish("stats")

        # Another container and back: the history comes from the engine's record.
        count = len(stats.series)
        await select(window, "quiet", lambda c: c.state.status.is_active, "running")
        assert len(stats.series) == 0 or stats.series.last is None or \
            stats.series.last.name == "quiet"
        await select(window, "busy")
        await wait_for(lambda: len(stats.series) >= count, window.plugins.feed.sampled,
                       timeout=30, what="the busy container's recorded history")
        assert stats.series.peak("cpu") >= BUSY_CPU

        target = tmp_path / "busy.csv"
        task = stats.export_csv(target)
        assert task is not None
        await task
        with open(target) as f:
            rows = list(csv.reader(f))
        assert rows[0][:2] == ["time_ns", "cpu_percent"]
        assert len(rows) - 1 >= count
        assert max(float(r[1]) for r in rows[1:]) >= BUSY_CPU

    run(story(), timeout=240)

    # A new window (the app started again): the charts start from what was recorded.
    recorded = len(stats.series)
    started = time.time()
    bridge, again = build(qapp, settings_path=tmp_path / "again.conf")
    again.show()
    try:
        assert run(bridge.open())

        async def reopened() -> None:
            await select(again, "busy")
            again.show_tab("stats")
            view = again.plugins.stats
            # Samples from before this window existed: the engine's record.
            await wait_for(lambda: sum(1 for t in view.series.times if t < started)
                           >= recorded - 2, view.series_loaded, timeout=30,
                           what="the recorded history in the new window")
            assert view.series.peak("cpu") >= BUSY_CPU

        run(reopened(), timeout=60)
    finally:
        again.close()
        run(bridge.close())


def test_a_stopped_containers_charts_stand_still(qtbot: Any, loop: Any) -> None:
    """Redrawing five charts every second cost ~6 % of a core for a stopped container."""
    from app.desktop.bridge import Bridge
    from app.desktop.stats.feed import StatsFeed
    from app.desktop.stats.view import StatsView
    from engine.containers.state import Status
    from tests.app.desktop.samples import container

    bridge = Bridge(lambda: None)
    view = StatsView(bridge, StatsFeed(bridge), None)
    qtbot.addWidget(view)
    redraws: list[float] = []
    draw = view._redraw

    def counted() -> None:
        redraws.append(time.monotonic())
        draw()

    view._redraw = counted  # type: ignore[method-assign]
    view.set_container(container("web", Status.EXITED))
    view.show()
    qtbot.wait(2600)
    assert not view._clock.isActive()
    assert len(redraws) <= 2, redraws  # when set and when first shown, then never
    view.set_container(container("web", Status.RUNNING))
    assert view._clock.isActive()  # a running container's time axis slides
    view.set_container(container("web", Status.EXITED))
    assert not view._clock.isActive()
    view.feed.stop()


@pytest.mark.root
def test_a_container_removed_meanwhile_has_no_history_and_no_error(
        qtbot: Any, run: Callable[..., Any], skiff_root: Path) -> None:
    """A `run --rm` container ends and goes before the list hears of it: nothing to say."""
    import asyncio

    from app.desktop.bridge import Bridge
    from app.desktop.stats.feed import StatsFeed
    from app.desktop.stats.view import StatsView
    from engine.containers.state import Status
    from tests.app.desktop.samples import container

    bridge = Bridge()
    assert run(bridge.open())
    view = StatsView(bridge, StatsFeed(bridge), None)
    qtbot.addWidget(view)
    messages: list[str] = []
    view.message.connect(messages.append)
    errors: list[str] = []
    bridge.error.connect(errors.append)
    try:
        view.set_container(container("gone", Status.EXITED))
        assert view._loading

        async def loaded() -> None:
            while view._loading:
                await asyncio.sleep(0.01)

        run(loaded(), timeout=30)
        assert messages == [] and errors == []
        assert len(view.series) == 0
    finally:
        view.feed.stop()
        run(bridge.close())


def test_the_first_sample_waits_for_the_launch(qtbot: Any) -> None:
    """The listing at launch selects a container: its first sample (the cgroup modules
    imported, the sample recorded) waits, not to come before the window's first paint."""
    from app.desktop.bridge import Bridge
    from app.desktop.stats.feed import LAUNCH_HOLD, StatsFeed
    from engine.containers.state import Status
    from tests.app.desktop.samples import container

    bridge = Bridge(lambda: None)
    feed = StatsFeed(bridge)
    web = container("web", Status.RUNNING)
    bridge.containers_listed.emit([web])
    feed.follow(web)
    try:
        assert feed._restart.isActive()
        assert feed._restart.remainingTime() > LAUNCH_HOLD * 1000 / 2
        assert feed.following() == ()
    finally:
        feed.stop()
