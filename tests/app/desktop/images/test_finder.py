"""The image finder's remote results (Docker Hub's search, a registry's catalog)
against qtmodeltester."""

from __future__ import annotations

from typing import Any

from app.desktop.images.finder import RESULT_COLUMNS
from app.desktop.widgets.rowtable import RowTable
from engine.registry.model import SearchResult


def test_search_results(qtmodeltester: Any) -> None:
    model = RowTable(RESULT_COLUMNS)
    model.reset_rows([SearchResult("busybox", "tiny", 3000, True),
                      SearchResult("user/box", "", 0, False)])
    qtmodeltester.check(model, force_py=True)
    assert [model.index(0, c).data() for c in range(4)] == ["busybox", "tiny", "3000",
                                                            "Official"]
    assert model.index(1, 2).data() == "" and model.index(1, 3).data() == ""
    assert model.index(1, 0).data(RowTable.RowRole).name == "user/box"
