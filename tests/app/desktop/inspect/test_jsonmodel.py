"""The inspect document's tree model against qtmodeltester."""

from __future__ import annotations

from typing import Any

from app.desktop.inspect.jsonmodel import JsonModel


def test_json_model(qtmodeltester: Any) -> None:
    model = JsonModel()
    model.set_document({"Id": "abc", "State": {"Status": "running", "Pid": 4},
                        "Args": ["-c", "x"], "Empty": {}, "Flag": True, "None": None})
    qtmodeltester.check(model, force_py=True)
    state = model.index(1, 0)
    assert state.data() == "State" and model.index(1, 1).data() == "{2 keys}"
    assert model.rowCount(state) == 2
    pid = model.index(1, 0, state)
    assert pid.data(JsonModel.PathRole) == "State.Pid"
    assert model.index(1, 1, state).data() == "4"
    args = model.index(2, 0)
    assert model.index(0, 0, args).data(JsonModel.PathRole) == "Args[0]"
    assert model.to_json(state) == '{\n  "Status": "running",\n  "Pid": 4\n}'
    assert model.index(4, 1).data() == "true"
