"""The "What is this?" view: its words for real parts, and the parts of a real container
(layer digests, namespace inodes checked against /proc, limits, network, commands)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.desktop.images.layerrows import clean_step
from app.desktop.learn import data as learndata
from app.desktop.learn.view import layer_columns, namespace_columns
from app.desktop.mainwindow import MainWindow
from app.desktop.widgets.rowtable import RowTable
from engine.containers.config import ContainerConfig, Resources
from engine.containers.details import EndpointSettings, HostPort, NetworkSettings
from engine.containers.files import NamespaceInfo
from engine.containers.model import Change, Container, Stats
from engine.containers.state import ContainerState, Status
from engine.images.model import Image, Layer
from engine.networkmodel import Network, NetworkEndpoint
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish, select

DIGESTS = [f"sha256:{c * 64}" for c in "abc"]


def _image() -> Image:
    history = [{"created_by": "/bin/sh -c #(nop) ADD file:1 in / "},
               {"created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]", "empty_layer": True},
               {"created_by": "/bin/sh -c apk add curl"},
               {"created_by": "COPY app /app"}]
    return Image("sha256:" + "f" * 64, config={"history": history},
                 layers=[Layer(d, d, 1000 * (i + 1)) for i, d in enumerate(DIGESTS)])


def _container(status: Status = Status.RUNNING, **resources: Any) -> Container:
    config = ContainerConfig(image="app", image_id="sha256:" + "f" * 64,
                             resources=Resources(**resources))
    return Container("1" * 64, "web", "", config, ContainerState(status, pid=42))


def test_layers_from_the_top_with_the_build_step_of_each() -> None:
    changes = [Change("A", "/new"), Change("A", "/new/file"), Change("C", "/etc"),
               Change("D", "/gone")]
    rows = learndata.layer_rows(_image(), changes)
    assert [r.label for r in rows] == ["Writable layer", "Layer 3", "Layer 2",
                                       "Layer 1 (base)"]
    assert [r.digest for r in rows[1:]] == DIGESTS[::-1]
    # The empty CMD entry made no layer: it is skipped when matching history to layers.
    assert [r.made_by for r in rows[1:]] == ["COPY app /app", "RUN apk add curl",
                                             "ADD file:1 in /"]
    assert "2 added, 1 changed, 1 deleted" in rows[0].made_by
    assert not rows[0].read_only and all(r.read_only for r in rows[1:])
    assert clean_step("|1 V=2 /bin/sh -c make all") == "RUN make all"
    assert clean_step("/bin/sh -ec #(nop) WORKDIR /app") == "WORKDIR /app"
    assert clean_step("|0 sh -c x") == "sh -c x"
    assert clean_step("/bin/sh -c #(nop) COPY file:" + "ab" * 32 + " in /x/ ") == \
        "COPY file:abababababab in /x/"
    bare = Image("sha256:" + "e" * 64, layers=[Layer(DIGESTS[0], DIGESTS[0], 5)])
    assert learndata.layer_rows(bare, None)[1].made_by == "(the image's history does not say)"


def test_models_of_the_view(qtmodeltester: Any) -> None:
    layers = RowTable(layer_columns())
    layers.set_rows(learndata.layer_rows(_image(), []))
    qtmodeltester.check(layers)
    assert layers.index(1, 1).data() == f"sha256:{'c' * 12}"
    assert layers.index(1, 1).data(0x03) == DIGESTS[2]  # the tooltip has all of it
    namespaces = RowTable(namespace_columns())
    namespaces.set_rows(learndata.namespace_rows([
        NamespaceInfo("pid", 4026532254, 4026531836, False),
        NamespaceInfo("user", 4026531837, 4026531837, True)]))
    qtmodeltester.check(namespaces)
    assert namespaces.index(0, 4).data() == "its own"
    assert namespaces.index(1, 4).data() == "shared with the host"
    assert namespaces.index(0, 1).data() == "Process IDs"


def test_limits_next_to_use_and_what_happens_at_them() -> None:
    stats = Stats("1" * 64, "web", 0, 50.0, 16 << 20, 64 << 20, 0, 0, 0, 0, 5)
    rows = learndata.limit_rows(_container(memory=64 << 20, nano_cpus=500_000_000,
                                           pids_limit=50), stats)
    memory, cpu, pids = rows
    assert (memory.limit, memory.now) == ("64.0 MiB", "16.0 MiB (25 %)")
    assert "OOM killer" in memory.at_limit
    assert cpu.limit == "0.5 cores" and cpu.fraction == 1.0 and "slower" in cpu.at_limit
    assert (pids.limit, pids.now, pids.fraction) == ("50", "5", 0.1)
    unlimited = learndata.limit_rows(_container(Status.EXITED), None)
    assert [r.limit for r in unlimited] == ["none", "none", "none"]
    assert unlimited[0].now == "not running"


def test_network_facts_and_who_it_can_reach() -> None:
    container = _container()
    settings = NetworkSettings(
        ip_address="10.91.0.2", gateway="10.91.0.1",
        ports={"80/tcp": (HostPort("", "8080"),), "443/tcp": None},
        networks={"shop": EndpointSettings(ip_address="10.91.0.2")})
    networks = [Network("shop", "1" * 64, "", bridge="sk-shop", containers={
        container.id: NetworkEndpoint(container.id, "web", "e1", ipv4_address="10.91.0.2/24"),
        "2" * 64: NetworkEndpoint("2" * 64, "db", "e2", ipv4_address="10.91.0.3/24")})]
    facts = learndata.network_facts(container, settings, networks)
    assert (facts.mode, facts.address, facts.bridge) == ("shop", "10.91.0.2", "sk-shop")
    assert facts.ports == ["0.0.0.0:8080 → 80/tcp"]
    assert facts.exposed == ["443/tcp"]
    assert learndata.ports_text(facts).startswith("Published ports: 0.0.0.0:8080 → 80/tcp. "
                                                  "Exposed but not published: 443/tcp")
    assert facts.peers == [learndata.Peer("db", "10.91.0.3", "shop", True)]
    assert "reach 1 other container by name" in facts.summary
    host = learndata.network_facts(
        container, NetworkSettings(networks={"host": EndpointSettings()}), [])
    assert "host's network directly" in host.summary


# -- a real container --------------------------------------------------------------------


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


def _ns_inode(pid: int | str, kind: str) -> int:
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino


def _host_inode(kind: str) -> int:
    """PID 1's, or ours where PID 1 is out of reach (this test runs in a container)."""
    try:
        return _ns_inode(1, kind)
    except PermissionError:
        return _ns_inode("self", kind)


@pytest.mark.gui
@pytest.mark.root
def test_the_parts_of_a_real_container(window: MainWindow, run: Callable[..., Any],
                                       busybox_multilayer_docker_archive: Path) -> None:
    learn = window.plugins.learn

    async def story() -> None:
        from engine import Engine

        async with Engine() as engine:
            image = (await engine.images.load(busybox_multilayer_docker_archive))[0]
            await engine.networks.create("learnnet")
        try:
            ref = "busybox-multi:latest"
            web = await make(ref, "web", ["sleep", "600"], network="learnnet",
                             resources=Resources(memory=64 << 20, nano_cpus=500_000_000,
                                                 pids_limit=50))
            await make(ref, "db", ["sleep", "600"], network="learnnet")
            await select(window, "web", lambda c: c.state.status.is_active, "running")
            window.show_tab("learn")
            await wait_for(lambda: learn.facts is not None and learn.facts.namespaces,
                           learn.loaded, timeout=30, what="the facts of web")

            # Layers: the image's real digests, top first, under the writable layer.
            rows = learn.layers.rows()
            assert rows[0].kind == "writable"
            assert [r.digest for r in rows[1:]] == [layer.digest for layer in
                                                    reversed(image.layers)]
            assert len(rows) == 4
            assert rows[-1].made_by == "busybox rootfs with applet links"

            # Namespaces: the inodes /proc shows for the container's process and the host's.
            pid = web.state.pid
            namespaces = {r.kind: r for r in learn.namespaces.rows()}
            for kind in ("pid", "mnt", "uts", "ipc", "net"):
                row = namespaces[kind]
                assert row.container_inode == _ns_inode(pid, kind)
                assert row.host_inode == _host_inode(kind)
                assert row.container_inode != row.host_inode and not row.shared
            assert namespaces["user"].shared

            limits = {r.resource: r for r in learn.limits.rows()}
            assert limits["Memory"].limit == "64.0 MiB"
            assert limits["CPU"].limit == "0.5 cores"
            assert limits["Processes"].limit == "50"
            assert [(p.name, p.network, p.by_name) for p in learn.peers.rows()] == [
                ("db", "learnnet", True)]
            assert "on the 'learnnet' network" in learn.network_summary.text()
            command = learn.command.text()
            assert command.startswith("skiff run -d --name web --network learnnet")
            assert "-m 64m" in command and "--cpus 0.5" in command
            screenshot(learn.page, "learn")
            publish("learn")

            # Drawn: the same walls, gauges and layers; db beside it on the same kernel.
            drawn = learn.picture.drawing.sketches[0]
            assert {(w.kind, w.own) for w in drawn.walls} == {
                (kind, not row.shared) for kind, row in namespaces.items()}
            gauges = {g.resource: g for g in drawn.gauges}
            assert gauges["Memory"].limit == "64.0 MiB"
            assert gauges["Memory"].fraction is not None and 0 < gauges["Memory"].fraction < 1
            assert (gauges["CPU"].limit, gauges["Processes"].limit) == ("0.5 cores", "50")
            assert [layer.digest for layer in drawn.layers] == [r.digest for r in rows]
            assert learn.facts.network is not None
            address = learn.facts.network.ip_address
            assert address and drawn.interface == f"eth0 {address} on learnnet"
            def known_db() -> Any:
                return next((c for c in learn.picture.containers.values()
                             if c.name == "db" and c.state.pid), None)

            # the picture learns of db from the window's own listing, maybe only now
            db = await wait_for(known_db, window.bridge.containers_listed,
                                window.bridge.containers_changed, timeout=60,
                                what="db running, as the picture knows it")
            learn.picture.compare_with(db.id)
            await wait_for(lambda: len(learn.picture.drawing.sketches) == 2,
                           learn.picture.drawn, timeout=30, what="db drawn beside web")
            second = learn.picture.drawing.sketches[1]
            assert second.name == "db" and {w.kind for w in second.walls if w.own} >= {
                "pid", "net", "mnt"}
            assert _ns_inode(web.state.pid, "net") != _ns_inode(db.state.pid, "net")
            screenshot(learn.picture, "learn-drawn")
            publish("learn-drawn")
            from PySide6.QtCore import Qt
            from PySide6.QtTest import QTest

            gauges_area = next(r for r, part in learn.picture.drawing.regions
                               if part == "gauges")
            clicked: list[str] = []
            learn.picture.drawing.part_clicked.connect(clicked.append)
            QTest.mouseClick(learn.picture.drawing, Qt.MouseButton.LeftButton,
                             pos=gauges_area.center().toPoint())
            assert clicked == ["gauges"]
            assert learn.scroller.verticalScrollBar().value() > 0

            # Show commands: clicking Stop shows (and records) `skiff stop web`.
            learn.show_commands.setChecked(True)
            bar = window.plugins.command_bar
            assert bar.isVisible()
            window.container_actions.stop.trigger()
            assert bar.text() == "skiff stop web"
            assert learn.history.item(learn.history.count() - 1).text() == "skiff stop web"
            await wait_for(lambda: learn.facts is not None and learn.facts.namespaces is None
                           and not learn.facts.container.state.status.is_active,
                           learn.loaded, timeout=30, what="the facts of the stopped web")
            assert learn.namespaces.rowCount() == 0
            assert "exist only while the container runs" in learn.namespaces_note.text()
            screenshot(window, "learn-commands")
        finally:
            async with Engine() as engine:
                for container in await engine.containers.list(all=True):
                    await engine.containers.remove(container.id, force=True)
                await engine.networks.remove("learnnet")

    run(story(), timeout=180)
