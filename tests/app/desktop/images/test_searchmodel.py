"""The registry search results model against qtmodeltester."""

from __future__ import annotations

from typing import Any

from app.desktop.images.searchmodel import SearchModel
from engine.registry.model import SearchResult


def test_search_model(qtmodeltester: Any) -> None:
    model = SearchModel()
    model.set_results([SearchResult("busybox", "tiny", 3000, True),
                       SearchResult("user/box", "", 0, False)])
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, 3).data() == "Official"
    assert model.index(1, 2).data() == ""
    assert model.index(1, 0).data(SearchModel.NameRole) == "user/box"
