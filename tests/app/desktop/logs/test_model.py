from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.desktop.logs.model import LogModel, format_local_time, time_key
from tests.app.desktop.conftest import wait_for

T0 = 1_767_322_800  # 2026-01-02T03:00:00Z


def record(i: int, stream: str = "stdout", text: str | None = None) -> bytes:
    stamp = time_key((T0 + i) * 1_000_000_000 + i)
    return f"{stamp} {stream} F {text if text is not None else f'line {i}'}\n".encode()


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "ctr.log"
    path.write_bytes(b"".join(record(i, "stderr" if i % 5 == 0 else "stdout",
                                     f"\x1b[32mline {i}\x1b[0m" if i == 3 else None)
                              for i in range(200)))
    return path


@pytest.fixture
def model(qapp: Any, log_file: Path) -> Iterator[LogModel]:
    log_model = LogModel()
    log_model.open(log_file, live=False)
    assert log_model.wait_idle()
    qapp.processEvents()
    yield log_model
    log_model.close()


def settle(qapp: Any, model: LogModel) -> None:
    assert model.wait_idle()
    qapp.processEvents()
    qapp.processEvents()


def test_model_passes_the_tester(qtmodeltester: Any, model: LogModel) -> None:
    assert model.rowCount() == 200
    qtmodeltester.check(model, force_py=True)


def test_rows_show_text_time_and_stream(model: LogModel) -> None:
    row = model.index(3, LogModel.COLUMN_MESSAGE)
    assert row.data() == "line 3"  # colours stripped for display
    assert [s.style.fg for s in row.data(LogModel.SpansRole)] == [2]
    assert model.index(5, 0).data(LogModel.StreamRole) == "stderr"
    assert model.index(0, 0).data() == format_local_time(time_key(T0 * 1_000_000_000))
    assert "stderr" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)


def test_search_filter_and_clear(qapp: Any, model: LogModel) -> None:
    model.set_search("line 1")
    settle(qapp, model)
    expected = [1, 10, *range(11, 20), *range(100, 200)]
    assert model.match_count == len(expected)
    assert model.next_match(-1) == 1
    assert model.next_match(1) == 10
    assert model.next_match(199, backwards=True) == 198
    model.set_filter(True)
    assert model.rowCount() == len(expected)
    assert model.index(0, 1).data() == "line 1"
    assert model.source_row(1) == 10
    model.set_filter(False)
    model.clear_view()
    assert model.rowCount() == 0
    with open(model.path, "ab") as out:  # type: ignore[arg-type]
        out.write(record(200) + record(201, text="line 1 again"))
    model.refresh()
    settle(qapp, model)
    assert [model.index(r, 1).data() for r in range(model.rowCount())] == [
        "line 200", "line 1 again"]
    model.set_filter(True)
    settle(qapp, model)
    assert [model.index(r, 1).data() for r in range(model.rowCount())] == ["line 1 again"]


def test_regex_error_is_raised_for_the_view(model: LogModel) -> None:
    import re

    with pytest.raises(re.error):
        model.set_search("(", regex=True)


def test_jump_to_time(model: LogModel) -> None:
    assert model.row_for_time((T0 + 42) * 1_000_000_000) == 42
    assert model.row_for_time((T0 - 100) * 1_000_000_000) == 0
    assert model.row_for_time((T0 + 10_000) * 1_000_000_000) == 199


def test_copy_and_save(model: LogModel, tmp_path: Path) -> None:
    text, cut = model.rows_text([3, 5], timestamps=False)
    assert (text, cut) == ("line 3\nline 5\n", False)
    text, cut = model.rows_text(range(10), timestamps=True, limit=2)
    assert cut and text.count("\n") == 2 and " stderr line 0" in text
    dest = tmp_path / "saved.log"
    assert model.snapshot()(dest, False) == 200
    lines = dest.read_text().splitlines()
    assert lines[3] == "line 3" and len(lines) == 200


def test_rows_appear_as_the_file_grows(qapp: Any, run: Callable[..., Any],
                                       log_file: Path) -> None:
    model = LogModel()
    grew: list[int] = []
    model.rowsInserted.connect(lambda _p, first, last: grew.append(last - first + 1))
    model.open(log_file, live=True)
    try:
        run(wait_for(lambda: model.rowCount() == 200, model.rowsInserted, what="200 rows"))
        with open(log_file, "ab") as out:
            for i in range(200, 300):
                out.write(record(i))
        run(wait_for(lambda: model.rowCount() == 300, model.rowsInserted, what="300 rows"))
        assert sum(grew) == 300
        assert len(grew) < 300  # batched, not one insertion per line
    finally:
        model.close()


def test_truncated_file_resets(qapp: Any, run: Callable[..., Any], log_file: Path) -> None:
    model = LogModel()
    model.open(log_file, live=True)
    try:
        run(wait_for(lambda: model.rowCount() == 200, model.rowsInserted, what="200 rows"))
        log_file.write_bytes(record(0, text="fresh"))
        run(wait_for(lambda: model.rowCount() == 1, model.modelReset, model.rowsInserted,
                     what="the reset"))
        assert model.index(0, 1).data() == "fresh"
    finally:
        model.close()


def test_a_rotated_log_is_followed(qapp: Any, run: Callable[..., Any],
                                   log_file: Path) -> None:
    model = LogModel()
    model.open(log_file, live=True)
    try:
        run(wait_for(lambda: model.rowCount() == 200, model.rowsInserted, what="200 rows"))
        os.replace(log_file, log_file.with_name(log_file.name + ".1"))  # as the monitor rotates
        log_file.write_bytes(record(0, text="fresh") + record(1, text="and more"))
        run(wait_for(lambda: model.rowCount() == 2, model.modelReset, model.rowsInserted,
                     what="the new file's rows"))
        assert [model.index(r, 1).data() for r in range(2)] == ["fresh", "and more"]
    finally:
        model.close()


def test_while_reading_back_a_rotation_keeps_the_rows(qapp: Any, run: Callable[..., Any],
                                                     log_file: Path) -> None:
    model = LogModel()
    model.open(log_file, live=True)
    try:
        run(wait_for(lambda: model.rowCount() == 200, model.rowsInserted, what="200 rows"))
        model.set_follow_rotation(False)  # the user scrolled up
        os.replace(log_file, log_file.with_name(log_file.name + ".1"))
        log_file.write_bytes(record(0, text="fresh"))
        model.refresh()
        assert model.wait_idle()
        qapp.processEvents()
        assert model.rowCount() == 200 and model.index(0, 1).data() == "line 0"
        model.set_follow_rotation(True)  # back at the newest lines
        run(wait_for(lambda: model.rowCount() == 1, model.modelReset, model.rowsInserted,
                     what="the new file's rows"))
        assert model.index(0, 1).data() == "fresh"
    finally:
        model.close()


def test_local_time_format() -> None:
    stamp = "2026-01-02T03:04:05.123456789Z"
    local = time.strftime("%H:%M:%S", time.localtime(T0 + 4 * 60 + 5))
    assert format_local_time(stamp) == f"{local}.123"
    assert format_local_time("junk") == "junk"


def test_opening_a_missing_file_raises(qapp: Any, tmp_path: Path) -> None:
    model = LogModel()
    with pytest.raises(FileNotFoundError):
        model.open(tmp_path / "missing.log")
    assert model.rowCount() == 0
    assert model.path is None
