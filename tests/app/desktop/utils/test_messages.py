from __future__ import annotations

import pytest

from app.desktop.utils.messages import describe
from engine.errors import AuthenticationError, HelperError, InUse, RegistryError


def test_engine_errors_become_sentences() -> None:
    text = describe("start web-1", InUse("port 8080 is already used by container web-2"))
    assert text == "Could not start web-1: Port 8080 is already used by container web-2."


def test_registry_errors_say_what_to_do() -> None:
    assert "Check the network" in describe("pull x", RegistryError("no such host"))
    assert "password" in describe("pull x", AuthenticationError("unauthorized"))
    assert "restart Skiff" in describe("stop x", HelperError("the helper died"))


def test_unexpected_errors_have_no_traceback() -> None:
    text = describe("do it", ValueError("bad"))
    assert "Traceback" not in text and "ValueError: bad" in text and "report" in text
    assert "cannot do that yet" in describe("do it", NotImplementedError())
    assert "does not exist" in describe("load", FileNotFoundError(2, "x", "/nope.tar"))


def test_expected_failures_log_one_line_and_bugs_a_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from app.desktop.utils.messages import log_failure
    from engine.errors import RegistryError

    with caplog.at_level(logging.WARNING, logger="app.desktop.utils.messages"):
        log_failure("search Docker Hub", RegistryError("registry-1.docker.io is unreachable"))
        log_failure("search Docker Hub", OSError(101, "Network is unreachable"))
        log_failure("stop web", KeyError("bug"))
    offline, unreachable, bug = caplog.records
    assert offline.exc_info is None and unreachable.exc_info is None
    assert offline.getMessage() == "search Docker Hub failed: registry-1.docker.io is unreachable"
    assert bug.exc_info is not None
