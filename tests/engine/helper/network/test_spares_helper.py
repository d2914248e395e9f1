"""A lingering helper keeps spare sandboxes (engine/helper/network/spares.py): its
next container start on the default bridge takes one, and when it is asked to go
(SIGTERM, as stop_lingering asks) it deletes those it kept."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from engine.helper.network.base import SPARES
from engine.helper.network.ipam import Ipam
from engine.helper.network.links import bridge_ports
from engine.helper.network.netns import sandboxes_under
from tests.fixtures.engine import stop_lingering, tidy_engine

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


async def _until(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_lingering_helpers_next_start_takes_a_spare_and_its_exit_leaves_none(
        busybox_image: str, skiff_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import ContainerConfig

    monkeypatch.setenv("SKIFF_HELPER_IDLE", "60")
    bridge = f"{os.environ['SKIFF_NET_PREFIX']}0"

    def spares() -> set[str]:
        return {p.ifname for p in bridge_ports(bridge) if p.spare}

    try:
        async with tidy_engine() as engine:
            helper_root = engine.system.helper_root
            await engine._shared.helper.call("ping")  # the helper, started
            pid = engine._shared.helper.pid
            assert pid is not None
            started: list[str] = []
            ready: set[str] = set()
            for _ in range(2):
                container = await engine.containers.create(ContainerConfig(
                    image=busybox_image, image_id="", cmd=["sleep", "60"]))
                if started:
                    await _until(lambda: len(spares()) >= 1, "a spare on the bridge")
                    ready = spares()
                await engine.containers.start(container.id)
                started.append(container.id)
            records = Ipam(helper_root / "network").read()
            veth = next(r for r in records.values() if r.name == "bridge"
                        ).endpoints[started[1]].veth
            assert veth in ready, "the second start made a veth of its own"
            for cid in started:
                await engine.containers.remove(cid, force=True)
    finally:
        stop_lingering(skiff_root)
    await _until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid),
                 "the helper to go")
    await _until(lambda: not spares(), "the spares' veths to go")
    assert sandboxes_under(helper_root / "network" / SPARES) == []


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
