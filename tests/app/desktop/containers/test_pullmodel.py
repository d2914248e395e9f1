"""The per-layer pull progress model against qtmodeltester."""

from __future__ import annotations

from typing import Any

from app.desktop.containers.pullmodel import PullModel
from engine.registry.model import PullProgress


def test_pull_model(qtmodeltester: Any) -> None:
    model = PullModel()
    assert model.percent is None
    model.apply(PullProgress("sha256:" + "1" * 64, "downloading", 25, 100))
    model.apply(PullProgress("sha256:" + "2" * 64, "exists", 0, 300))
    qtmodeltester.check(model, force_py=True)
    assert model.percent == 81  # (25 + 300) / 400
    assert model.index(0, 2).data() == "25B / 100B"
    assert model.index(0, 2).data(PullModel.FractionRole) == 0.25
    assert model.index(1, 1).data() == "Already here"
    model.apply(PullProgress("sha256:" + "1" * 64, "done", 100, 100))
    assert model.complete and model.percent == 100
