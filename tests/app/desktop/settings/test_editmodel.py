"""The Settings tab's editable tables' model against qtmodeltester."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.desktop.settings.editmodel import Column, EditModel


def test_edit_model(qtmodeltester: Any) -> None:
    model = EditModel([Column("Name"), Column("Value"), Column("RO", kind="bool")])
    model.set_rows([("A", "1", False), ("B", "2", True)])
    qtmodeltester.check(model, force_py=True)
    assert model.setData(model.index(0, 1), "x")
    assert model.setData(model.index(0, 2), Qt.CheckState.Checked.value,
                         Qt.ItemDataRole.CheckStateRole)
    row = model.add_row(["C"])
    model.remove_rows([1])
    assert model.rows() == [["A", "x", True], ["C", "", False]]
    assert row == 2
    assert model.flags(model.index(0, 2)) & Qt.ItemFlag.ItemIsUserCheckable
