"""The sidebar's health badge and the last probe's output on hover (issue 15)."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt

from app.desktop.containers.model import ContainerModel
from engine.wire.healthstate import HealthLogEntry, HealthState
from tests.app.desktop.samples import container


def test_the_tooltip_tells_the_last_probe(qapp: Any) -> None:
    probe = HealthLogEntry("2026-01-02T03:04:05Z", "2026-01-02T03:04:06Z", 1,
                           "connection refused\nline 2\n")
    sick = container("sick")
    sick = dataclasses.replace(sick, state=dataclasses.replace(
        sick.state, health=HealthState("unhealthy", 3, (probe,))))
    model = ContainerModel()
    model.sync([sick, container("plain")])
    tip = model.index(model.row_of(sick.id) or 0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.endswith("Unhealthy\nLast health check (exit 1):\nconnection refused\nline 2")
    plain = model.index(model.row_of(container("plain").id) or 0, 0)
    assert plain.data(Qt.ItemDataRole.ToolTipRole).endswith("Running")
    assert plain.data(ContainerModel.BadgeTextRole) == "Running"
