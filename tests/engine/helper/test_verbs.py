"""The helper's verb table, the protocol's schemas and the callers' names stay in step."""

from __future__ import annotations

from engine.helper.connection import QUICK
from engine.helper.verbs import HANDLERS
from engine.wire.protocol import VERBS
from engine.wire.requests import Verb


def test_every_verb_has_a_handler_and_every_handler_a_verb() -> None:
    # cancel is the connection's own (engine/helper/connection.py), never dispatched.
    assert set(HANDLERS) == set(VERBS) - {"cancel"}
    assert QUICK.issubset(VERBS)


def test_callers_name_exactly_the_protocol_s_verbs() -> None:
    assert [verb.value for verb in Verb] == list(VERBS)
    assert Verb.CONTAINER_CREATE == "container_create"  # what travels is the plain name
