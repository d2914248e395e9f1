"""Stats, their history, and the words that explain a container's state."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from engine import Engine
from engine.containers.config import ContainerConfig, Resources

pytestmark = pytest.mark.root


def config(*cmd: str, **options: object) -> ContainerConfig:
    return ContainerConfig(image="busybox", image_id="", cmd=list(cmd), **options)  # type: ignore[arg-type]


async def started(engine: Engine, *cmd: str, **options: object) -> str:
    container = await engine.containers.create(config(*cmd, **options))
    await engine.containers.start(container.id)
    return container.id


def _cpu_seconds(pid: int) -> float:
    """What the kernel charged ``pid`` so far (utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_a_busy_loop_uses_a_whole_core(engine: Engine) -> None:
    """The percentage is the share of a core the kernel gave the container: the
    shell's own CPU time over the same second says what it must be, busy machine
    or not."""
    cid = await started(engine, "sh", "-c", "while :; do :; done")
    pid = (await engine.containers.get(cid)).state.pid
    await engine.stats.get(cid)  # the first sample has nothing to compare with
    spent, since = _cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(1.0)
    sample = await engine.stats.get(cid)
    expected = 100.0 * (_cpu_seconds(pid) - spent) / (time.monotonic() - since)
    assert expected > 10.0, "the machine gave the loop no time to measure"
    assert abs(sample.cpu_percent - expected) <= max(10.0, expected * 0.2)
    assert sample.cpu_percent <= 110.0  # one core at most
    assert sample.pids >= 1
    await engine.containers.kill(cid)


async def test_memory_grows_when_the_container_allocates(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c",
                        "sleep 0.5; head -c 60000000 /dev/zero > /dev/shm/fill; sleep 30",
                        resources=Resources(memory=256 << 20))
    before = (await engine.stats.get(cid)).memory_usage
    for _ in range(50):
        await asyncio.sleep(0.1)
        after = await engine.stats.get(cid)
        if after.memory_usage > before + (40 << 20):
            break
    assert after.memory_usage > before + (40 << 20)
    assert after.memory_limit == 256 << 20
    await engine.containers.kill(cid)


async def test_history_is_recorded_and_exported(engine: Engine, tmp_path: Path) -> None:
    cid = await started(engine, "sleep", "30")
    stream = engine.stats.stream([cid], interval=0.1, record=True)
    for _ in range(3):
        await anext(stream)
    await stream.aclose()
    history = await engine.stats.history(cid)
    assert len(history) >= 3 and all(s.id == cid for s in history)
    assert await engine.stats.export(cid, tmp_path / "stats.csv") == len(history)
    lines = (tmp_path / "stats.csv").read_text().splitlines()
    assert lines[0].startswith("time_ns,cpu_percent,memory_usage")
    assert len(lines) == len(history) + 1
    await engine.containers.kill(cid)


async def test_removal_forgets_the_history_the_engine_keeps_and_opens_none(
        engine: Engine, tmp_path: Path) -> None:
    """The window (which records) forgets a removed container's samples at once; an
    engine that never opened the history (the CLI's `rm`, `run --rm`) does not open
    it only to delete: its samples age out with the rest."""
    charted = await started(engine, "sleep", "30")
    stream = engine.stats.stream([charted], interval=0.1, record=True)
    for _ in range(2):
        await anext(stream)
    await stream.aclose()
    await engine.containers.remove(charted, force=True)
    assert engine._shared.stats_store.history(charted, "") == []
    async with Engine() as cli:
        ran = await started(cli, "true")
        await cli.containers.wait(ran)
        await cli.containers.remove(ran)
        assert cli._shared._stats_store is None


async def test_top_lists_the_processes(engine: Engine) -> None:
    cid = await started(engine, "sh", "-c", "sleep 31 & sleep 32")
    await asyncio.sleep(0.3)
    commands = [p.command for p in await engine.containers.top(cid)]
    assert any("sleep 31" in c for c in commands) and any("sleep 32" in c for c in commands)
    await engine.containers.kill(cid)


async def test_exit_reasons_speak_plainly(engine: Engine) -> None:
    ok = await started(engine, "true")
    await engine.containers.wait(ok)
    assert "Exited normally" in await engine.containers.exit_reason(ok)
    failed = await started(engine, "sh", "-c", "exit 3")
    await engine.containers.wait(failed)
    assert "exit code 3" in await engine.containers.exit_reason(failed)
    killed = await started(engine, "sleep", "30")
    os.kill((await engine.containers.get(killed)).state.pid, signal.SIGKILL)  # not through skiff
    await engine.containers.wait(killed)
    assert "signal 9 (SIGKILL)" in await engine.containers.exit_reason(killed)
    stopped = await started(engine, "sleep", "30")
    await engine.containers.stop(stopped, timeout=0)
    assert "Stopped by the user" in await engine.containers.exit_reason(stopped)
    oom = await started(engine, "sh", "-c",
                        "yes abcdefghijklmnopqrstuvwxyz | head -c 300000000 | sort > /dev/null",
                        resources=Resources(memory=32 << 20))
    await engine.containers.wait(oom)
    reason = await engine.containers.exit_reason(oom)
    assert "out of memory" in reason and "32.0 MiB" in reason


async def test_command_line_recreates_the_container(engine: Engine) -> None:
    container = await engine.containers.create(config("echo", "hi there", env=["A=1"],
                                           resources=Resources(memory=64 << 20)), name="cmd")
    assert await engine.containers.command_line(container.id) == \
        "skiff run -d --name cmd -e A=1 -m 64m busybox echo 'hi there'"
