"""Builds from busybox with real containers: RUN, COPY, metadata, and what the image holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.engine.build.helpers import build, files_of, write_context


async def test_run_copy_and_metadata(engine: Any, tmp_path: Path) -> None:
    write_context(tmp_path, {
        "Dockerfile": (
            "FROM busybox\n"
            "ENV GREETING=hello\n"
            "COPY hello.txt /app/\n"
            "WORKDIR /app\n"
            "RUN echo \"$GREETING world\" > out.txt && echo built\n"
            "CMD [\"cat\", \"/app/out.txt\"]\n"),
        "hello.txt": "hi\n",
    })
    result, _events, text = await build(engine, tmp_path, tags=("built:1",))
    assert "Step 1/6 : FROM busybox" in text and "built\n" in text
    image = engine._shared.image_store.get("built:1")
    assert image.id == result.image_id
    assert image.run_config["Cmd"] == ["cat", "/app/out.txt"]
    assert image.run_config["WorkingDir"] == "/app"
    files = files_of(engine, image.id)
    assert files.read("/app/out.txt") == b"hello world\n"
    assert files.read("/app/hello.txt") == b"hi\n"
    entry = files.get("/app/out.txt")
    assert entry is not None and (entry.uid, entry.gid) == (0, 0)
