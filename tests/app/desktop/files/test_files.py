"""The Files tab: the lazy tree model, and a real container's files running and stopped:
what it added is marked, a text file opens read-only, copies go out and in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from app.desktop.files.model import FileTreeModel, parse_names
from app.desktop.files.viewer import describe_content
from app.desktop.mainwindow import MainWindow
from engine.containers.files import FileEntry
from tests.app.desktop.conftest import screenshot, wait_for
from tests.app.desktop.livewindow import live_window, make, publish, select


def entry(path: str, kind: str = "file", size: int = 3, uid: int = 0) -> FileEntry:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return FileEntry(name, path, kind, size, 0o755 if kind == "dir" else 0o644, uid, uid,
                     1_700_000_000 * 10**9, "/bin/busybox" if kind == "symlink" else "")


TREE = {
    "/": [entry("/etc", "dir"), entry("/bin", "dir"), entry("/created.txt", uid=1000),
          entry("/empty", "dir")],
    "/etc": [entry("/etc/hosts"), entry("/etc/passwd", size=120)],
    "/bin": [entry("/bin/sh", "symlink")],
    "/empty": [],
}


def answering_model() -> FileTreeModel:
    """A model whose listings arrive at once, the way the engine's replies would."""
    model = FileTreeModel()
    model.fetch_requested.connect(lambda path: model.set_children(path, TREE[path]))
    return model


def test_the_tree_loads_directories_when_they_are_opened(qtmodeltester: Any) -> None:
    model = answering_model()
    assert model.rowCount() == 0 and model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        "bin", "empty", "etc", "created.txt"]  # folders first
    etc = model.index_for("/etc")
    assert model.hasChildren(etc) and model.rowCount(etc) == 0 and model.canFetchMore(etc)
    model.fetchMore(etc)
    assert model.rowCount(etc) == 2 and not model.canFetchMore(etc)
    assert model.index(0, 0, etc).data(FileTreeModel.PathRole) == "/etc/hosts"
    empty = model.index_for("/empty")
    model.fetchMore(empty)
    assert not model.hasChildren(empty)
    model.set_children("/", TREE["/"][:1])  # a late second answer changes nothing
    assert model.rowCount() == 4
    qtmodeltester.check(model)

    model.set_changes([("A", "/created.txt"), ("C", "/etc"), ("D", "/gone")])
    created = model.index_for("/created.txt")
    assert created.siblingAtColumn(5).data() == "Added"
    assert model.index_for("/etc").siblingAtColumn(5).data() == "Changed"
    assert created.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert created.siblingAtColumn(2).data() == "1000:1000"
    model.set_names({0: "root", 1000: "app"}, {0: "root"})
    assert created.siblingAtColumn(2).data() == "app:1000"
    assert created.siblingAtColumn(3).data() == "-rw-r--r--"
    link = model.index_for("/bin")
    model.fetchMore(link)
    assert model.index(0, 0, link).data() == "sh → /bin/busybox"
    qtmodeltester.check(model)


def test_a_failed_listing_is_said_and_does_not_load_forever(qtmodeltester: Any) -> None:
    model = FileTreeModel()
    model.fetch_requested.connect(lambda path: model.set_children(path, TREE["/"])
                                  if path == "/" else model.load_failed(path, "no access"))
    model.fetchMore(QModelIndex())
    etc = model.index_for("/etc")
    model.fetchMore(etc)
    assert not model.canFetchMore(etc) and model.rowCount(etc) == 0
    assert etc.data() == "etc (could not list)"
    assert "no access" in etc.data(Qt.ItemDataRole.ToolTipRole)
    qtmodeltester.check(model)


def test_a_reload_while_the_listing_is_on_its_way_lists_again(qtmodeltester: Any) -> None:
    """A copy into a folder whose first listing is still being read: that listing may
    predate the copy, so the folder is listed again once it is in."""
    model = FileTreeModel()
    asked: list[str] = []
    model.fetch_requested.connect(asked.append)
    model.fetchMore(QModelIndex())
    model.reload("/")  # the copy is done; the listing read before it is not in yet
    assert asked == ["/"]
    model.set_children("/", [])
    assert asked == ["/", "/"] and not model.directory_loaded("/")
    model.set_children("/", [entry("/copied")])
    assert model.directory_loaded("/") and [e.name for e in model.entries("/")] == ["copied"]
    assert asked == ["/", "/"]  # and no more
    qtmodeltester.check(model)


def test_names_and_content_descriptions() -> None:
    assert parse_names("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
                       "broken\n") == {0: "root", 1000: "app"}
    text, note = describe_content(b"hello\n", 6, 1 << 20)
    assert text == "hello\n" and "read-only" in note
    text, note = describe_content(b"\x7fELF\0\0", 900_000, 1 << 20)
    assert text == "" and "binary" in note
    text, note = describe_content(b"a" * 100, 5000, 100)
    assert "first 100 B of 4.9 KiB" in note


# -- a real container ---------------------------------------------------------------------


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


MAKER = ("echo 'made inside' > /created.txt; mkdir -p /made/deep; echo deep > "
         "/made/deep/file; rm /usr/bin/env; touch /ready; sleep 600")


@pytest.mark.gui
@pytest.mark.root
def test_the_files_a_container_made(window: MainWindow, run: Callable[..., Any],
                                    busybox_image: str, tmp_path: Path) -> None:
    files = window.plugins.files
    model = files.model

    async def story() -> None:
        container = await make(busybox_image, "maker", ["sh", "-c", MAKER])
        await _wait_for_file(container.id, "/ready")
        await select(window, "maker", lambda c: c.state.status.is_active, "running")
        window.show_tab("files")
        await wait_for(lambda: model.directory_loaded("/") and files.changes.rowCount(),
                       model.loaded, files.changes.modelReset, timeout=30,
                       what="the root listing and the changes")
        names = [e.name for e in model.entries("/")]
        assert {"bin", "etc", "created.txt", "made"} <= set(names)
        created = model.index_for("/created.txt")
        assert created.siblingAtColumn(5).data() == "Added"
        assert model.change_of("/created.txt") == "A"
        await wait_for(lambda: created.siblingAtColumn(2).data() == "root:root",
                       model.dataChanged, what="owners named from the container's /etc/passwd")
        assert model.index_for("/bin").siblingAtColumn(5).data() == ""

        # Open /made and /made/deep lazily, as expanding them in the tree does.
        files.tree.expand(model.index_for("/made"))
        await wait_for(lambda: model.directory_loaded("/made"), model.loaded,
                       what="/made listed")
        files.tree.expand(model.index_for("/made/deep"))
        await wait_for(lambda: model.directory_loaded("/made/deep"), model.loaded,
                       what="/made/deep listed")
        assert [e.name for e in model.entries("/made/deep")] == ["file"]
        assert model.index_for("/made/deep/file").siblingAtColumn(5).data() == "Added"
        assert files.select("/created.txt")
        screenshot(window, "files")
        publish("files")

        # Changed files: added, changed and deleted against the image.
        files.mode.setCurrentIndex(1)
        changes = {c.path: c.kind for c in files.changes.rows()}
        assert changes["/created.txt"] == "A" and changes["/made/deep/file"] == "A"
        assert changes["/usr/bin/env"] == "D"  # in the image, deleted by the container
        assert "1 deleted" in files.note.text()
        screenshot(window, "files-changed")
        files.mode.setCurrentIndex(0)

        # Open a text file read-only.
        task = files.open_file("/created.txt")
        assert task is not None
        await task
        viewer = files.viewer
        assert viewer is not None
        assert viewer.text.toPlainText() == "made inside\n"
        assert viewer.text.isReadOnly()
        viewer.close()

        # Copy a folder out, and a file in (into the selected folder).
        await files.copy_out("/made", tmp_path)
        assert (tmp_path / "made" / "deep" / "file").read_text() == "deep\n"
        assert f"skiff cp maker:/made {tmp_path}" in window.plugins.commands.history()
        source = tmp_path / "from-host.txt"
        source.write_text("from the host\n")
        files.select("/made")
        assert files.target_directory() == "/made"
        await files.copy_in(source, files.target_directory())
        await wait_for(lambda: "from-host.txt" in [e.name for e in model.entries("/made")],
                       model.loaded, what="the copied file listed")
        await wait_for(lambda: model.change_of("/made/from-host.txt") == "A",
                       files.changes.modelReset, files.changes.dataChanged,
                       what="the copied file marked as added")

        # Stopped, the files are still there to browse.
        window.container_actions.stop.trigger()
        await select(window, "maker", lambda c: not c.state.status.is_active, "stopped",
                     timeout=60)
        await wait_for(lambda: model.directory_loaded("/") and
                       "created.txt" in [e.name for e in model.entries("/")],
                       model.loaded, timeout=30, what="the stopped container's files")
        assert "(stopped)" in files.note.text()

    run(story(), timeout=180)


@pytest.mark.gui
@pytest.mark.root
def test_a_container_that_wrote_nothing_changed_nothing(window: MainWindow,
                                                        run: Callable[..., Any],
                                                        busybox_image: str,
                                                        tmp_path: Path) -> None:
    """The runtime's mount points and /etc files are not the container's changes: the
    Files tab marks nothing and What Is This? counts none, as docker diff lists none."""
    from engine.containers.config import MountSpec

    files = window.plugins.files
    learn = window.plugins.learn
    host = tmp_path / "host"
    host.mkdir()

    async def story() -> None:
        await make(busybox_image, "idle", ["sleep", "600"],
                   mounts=[MountSpec("bind", "/srv/new/site", str(host))])
        await select(window, "idle", lambda c: c.state.status.is_active, "running")
        loaded: list[int] = []  # the changes' model is reset once the engine's diff is in
        files.changes.modelReset.connect(lambda: loaded.append(1))
        window.show_tab("files")
        files.mode.setCurrentIndex(1)
        await wait_for(lambda: loaded and files.model.directory_loaded("/"),
                       files.changes.modelReset, files.model.loaded, timeout=30,
                       what="the changes of idle")
        assert files.changes.rows() == []
        assert "(0 added, 0 changed, 0 deleted)" in files.note.text()
        for path in ("/etc", "/proc", "/sys", "/dev"):
            assert files.model.change_of(path) == "", path
        window.show_tab("learn")
        await wait_for(lambda: learn.facts is not None and learn.facts.changes is not None,
                       learn.loaded, timeout=30, what="the facts of idle")
        assert learn.facts is not None and learn.facts.changes == []
        assert "0 added, 0 changed, 0 deleted" in learn.layers.rows()[0].made_by

    run(story(), timeout=120)


async def _wait_for_file(container_id: str, path: str) -> None:
    import asyncio

    from engine import Engine
    from engine.errors import NotFound

    async with Engine() as engine:
        for _attempt in range(200):
            try:
                await engine.containers.stat_file(container_id, path)
                return
            except NotFound:
                await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never appeared")
