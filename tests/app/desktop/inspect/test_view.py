"""The Inspect tab's tree: copy as JSON, what the user opened stays open."""

from __future__ import annotations

from typing import Any


def test_inspect_tree_copies_json(qtbot: Any) -> None:
    import json

    from app.desktop.inspect.view import InspectView

    view = InspectView()
    qtbot.addWidget(view)
    document = {"Id": "abc", "State": {"Status": "running", "Pid": 42}, "Args": ["-c", "x"]}
    view.set_document(document)
    state = view.model.index(1, 0)
    assert view.tree.isExpanded(state)  # State starts open
    assert json.loads(view.copy_json()) == document
    view.tree.setCurrentIndex(state)
    assert json.loads(view.copy_json()) == {"Status": "running", "Pid": 42}
    view.tree.collapse(state)
    view.tree.expand(view.model.index(2, 0))
    view.set_document({**document, "State": {"Status": "exited", "Pid": 0}})
    assert view.tree.isExpanded(view.model.index(2, 0))  # what the user opened stays open
    assert not view.tree.isExpanded(view.model.index(1, 0))
