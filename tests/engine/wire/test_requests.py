"""The verb table: each verb a typed request whose fields are its schema, and a typed reply."""

from __future__ import annotations

import pytest

from engine.errors import ProtocolError
from engine.wire.protocol import VERBS, validate
from engine.wire.requests import (
    REQUESTS,
    Change,
    ContainerAttach,
    ContainerChanges,
    ContainerFs,
    ContainerStart,
    ContainerStop,
    DiskUsage,
    DiskUsageReply,
    FsReply,
    Ping,
    Verb,
    WithFds,
)

CID = "c" * 64


def test_the_table_has_one_request_for_each_verb() -> None:
    assert list(REQUESTS) == list(Verb) == list(VERBS)
    assert all(cls.VERB is verb for verb, cls in REQUESTS.items())


def test_a_request_travels_as_its_verb_s_schema_checks_it() -> None:
    stop = ContainerStop(id=CID, signal=15, timeout=10)
    assert validate(stop.VERB, stop.to_args()) == {"id": CID, "signal": 15, "timeout": 10}
    start = ContainerStart(id=CID)  # optional fields travel as None: "not given"
    assert validate(start.VERB, start.to_args()) == {"id": CID, "attach": None,
                                                     "sources": None, "networks": None,
                                                     "links": None, "link_env": None}
    with pytest.raises(ProtocolError, match=r"container_stop\.signal: must be at most 64"):
        validate(Verb.CONTAINER_STOP, ContainerStop(id=CID, signal=99, timeout=1).to_args())


def test_replies_are_read_into_the_verb_s_own_types() -> None:
    assert Ping().reply({"pid": 42}) == 42
    assert ContainerChanges(id=CID).reply([["A", "/new"], ["D", "/gone"]]) == [
        Change("A", "/new"), Change("D", "/gone")]
    assert DiskUsage(containers=[CID], volumes=["v"]).reply(
        {"containers": {CID: 10}, "volumes": {"v": 2}}) == DiskUsageReply({CID: 10}, {"v": 2})
    fs = ContainerFs(id=CID, op="get", path="/etc", follow=False, limit=0, name=".",
                     archive=True)
    assert fs.reply(WithFds({"entry": {"name": "etc"}}, [7, 8])) == FsReply({"name": "etc"},
                                                                           [7, 8])
    assert fs.reply({"name": "etc"}) == FsReply({"name": "etc"}, [])
    assert ContainerAttach(id=CID).reply(WithFds({}, [5])) == [5]
    assert ContainerStart(id=CID).reply({}) == []  # started, nothing attached
