"""The helper's verb table and the protocol's schemas stay in step."""

from __future__ import annotations

from engine.helper.connection import QUICK
from engine.helper.protocol import VERBS
from engine.helper.verbs import HANDLERS


def test_every_verb_has_a_handler_and_every_handler_a_verb() -> None:
    # cancel is the connection's own (engine/helper/connection.py), never dispatched.
    assert set(HANDLERS) == set(VERBS) - {"cancel"}
    assert QUICK.issubset(VERBS)
