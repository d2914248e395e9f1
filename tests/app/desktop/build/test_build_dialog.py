"""Build Image… in the window: the form, the output streaming, the layer strip growing, Run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from app.desktop.build.dialog import BuildDialog, parse_build_args
from app.desktop.build.job import StepRow
from app.desktop.build.stripmodel import LayerStripModel
from app.desktop.mainwindow import MainWindow
from tests.app.desktop.conftest import wait_for
from tests.app.desktop.livewindow import live_window


def test_build_args_lines() -> None:
    assert parse_build_args("A=1\n\n# note\nB = two=2\n") == (("A", "1"), ("B", " two=2"))
    with pytest.raises(ValueError, match="line 1"):
        parse_build_args("novalue\n")


def test_a_repository_or_url_is_a_context_too(qapp: Any, tmp_path: Path) -> None:
    dialog = BuildDialog(cast(Any, None))
    dialog.folder.setText("https://example.com/team/app.git#main:web")
    dialog.tag.setText("web:1")
    request = dialog.request()
    assert request.folder == "https://example.com/team/app.git#main:web"
    assert request.tag == "web:1" and request.dockerfile == "Dockerfile"
    dialog.folder.setText(str(tmp_path))  # a folder must hold the Dockerfile
    with pytest.raises(ValueError, match="There is no Dockerfile"):
        dialog.request()
    dialog.deleteLater()


def test_strip_model(qtmodeltester: Any) -> None:
    model = LayerStripModel()
    model.add(StepRow(1, 3, "FROM busybox", 0, False, "sha256:" + "a" * 64))
    model.add(StepRow(2, 3, "RUN echo hi > /x", 4096, True, "sha256:" + "b" * 64))
    qtmodeltester.check(model)
    text = model.index(1, 0).data()
    assert text.startswith("2. RUN echo hi > /x") and "cached" in text
    assert "no layer" in model.index(0, 0).data()


def test_stack_draws_the_layers_newest_on_top(qapp: Any, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    from app.desktop.build.stack import BuildStack, stack_rows

    model = LayerStripModel()
    stack = BuildStack(model)
    assert stack.rows == []
    steps = [StepRow(1, 5, "FROM busybox", 0, False, "sha256:" + "a" * 64),
             StepRow(2, 5, "ARG WORD", 0, True, "sha256:" + "b" * 64),
             StepRow(3, 5, "COPY a.txt /a.txt", 4096, True, "sha256:" + "c" * 64),
             StepRow(4, 5, "RUN make", 8192, False, "sha256:" + "d" * 64)]
    for step in steps:
        model.add(step)
    assert [(r.label, r.made_by) for r in stack.rows] == [
        ("Step 4", "RUN make"), ("Step 3 (cached)", "COPY a.txt /a.txt"),
        ("Base image", "FROM busybox")]
    assert stack.rows == stack_rows(steps)
    assert "1 settings-only step added none" in stack.caption
    assert "Step 4: RUN make" in stack.accessibleDescription()
    stack.resize(360, stack.sizeHint().height())
    picture = QImage(stack.size(), QImage.Format.Format_ARGB32)
    picture.fill(0)
    stack.render(picture)
    picture.save(str(tmp_path / "stack.png"))
    assert picture.pixelColor(180, stack.height() - 10).alpha() > 0  # the base is drawn
    model.clear()
    assert stack.rows == []


@pytest.fixture
def window(qapp: Any, run: Callable[..., Any], skiff_root: Path, busybox_image: str,
           tmp_path: Path) -> Iterator[MainWindow]:
    yield from live_window(qapp, run, tmp_path)


@pytest.mark.gui
@pytest.mark.root
def test_build_from_the_window(window: MainWindow, run: Callable[..., Any],
                               tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(
        "FROM busybox\nARG WORD\nCOPY a.txt /a.txt\nRUN echo \"$WORD\" >> /a.txt\n"
        "CMD [\"cat\", \"/a.txt\"]\n")
    (context / "a.txt").write_text("first\n")
    window.a_build.trigger()
    dialogs = window.browser.findChildren(BuildDialog)
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert dialog.start_build() is None and "Choose the folder" in dialog.status.text()
    dialog.folder.setText(str(context))
    dialog.tag.setText("windowbuild:1")
    dialog.args.setPlainText("WORD=second\n")

    async def story() -> None:
        job = dialog.start_build()
        assert job is not None
        await wait_for(lambda: dialog.run_button.isEnabled(), job.finished, job.failed,
                       timeout=120, what="the build to finish")
        assert "Successfully tagged windowbuild:1" in dialog.output.toPlainText()
        rows = dialog.strip_model.steps
        assert [r.step for r in rows] == [1, 2, 3, 4, 5]
        assert [r.made_by for r in dialog.strip.rows] == [  # drawn newest on top
            "RUN echo \"$WORD\" >> /a.txt", "COPY a.txt /a.txt", "FROM busybox"]
        assert rows[2].size > 0 and not rows[2].cached  # COPY made a layer
        assert rows[1].size == 0  # ARG: settings only
        again = dialog.start_build()
        assert again is not None
        await wait_for(lambda: dialog.run_button.isEnabled(), again.finished, again.failed,
                       timeout=120, what="the second build")
        assert all(r.cached for r in dialog.strip_model.steps[1:])
        engine = window.bridge.engine
        image = await engine.images.get("windowbuild:1")
        await engine.images.remove(image.id, force=True)

    run(story(), timeout=240)
    dialog.reject()
