"""skiff build's terminal display: step headers, indented output, how each step ended."""

from __future__ import annotations

import io
import re

from app.cli.build import _Terminal
from engine.build.events import BuildEvent


def test_terminal_display() -> None:
    out = io.StringIO()
    show = _Terminal(out)
    show(BuildEvent("step", 1, 2, text="FROM busybox"))
    show(BuildEvent("step_done", 1, 2, image_id="sha256:" + "a" * 64))
    show(BuildEvent("step", 2, 2, text="RUN echo hi"))
    show(BuildEvent("running", 2, 2, container_id="c" * 64))
    show(BuildEvent("output", 2, 2, text="hi\npart"))
    show(BuildEvent("output", 2, 2, text="ial\n"))
    show(BuildEvent("step_done", 2, 2, image_id="sha256:" + "b" * 64, size=2048))
    show(BuildEvent("step", 3, 3, text="LABEL a=b"))
    show(BuildEvent("cached", 3, 3))
    show(BuildEvent("step_done", 3, 3, image_id="sha256:" + "b" * 64, cached=True))
    show(BuildEvent("built", 3, 3, image_id="sha256:" + "b" * 64))
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert plain.splitlines() == [
        "[1/2] FROM busybox", "  ✓ 0.0s → aaaaaaaaaaaa",
        "[2/2] RUN echo hi", "  │ hi", "  │ partial", "  ✓ 0.0s, layer 2.05kB → bbbbbbbbbbbb",
        "[3/3] LABEL a=b", "  ✓ cached", "Successfully built bbbbbbbbbbbb"]
