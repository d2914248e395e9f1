"""Parsing: stages, flags, and errors that name the file, line and instruction."""

from __future__ import annotations

import pytest

from engine.build.dockerfile import escape_token, parse
from engine.build.plan import plan_build
from engine.errors import InvalidArgument


def test_stages_and_meta_args() -> None:
    parsed = parse("ARG BASE=busybox\nFROM $BASE AS one\nRUN a\nFROM one\nCOPY --from=one /a /b\n")
    assert [a.original for a in parsed.meta_args] == ["ARG BASE=busybox"]
    assert [(s.name, s.base) for s in parsed.stages] == [("one", "$BASE"), ("", "one")]
    copy = parsed.stages[1].instructions[0]
    assert copy.flags == {"from": "one"} and copy.args == ("/a", "/b")


@pytest.mark.parametrize(("text", "message"), [
    ("FROM busybox\nFOO bar\n", "Dockerfile:2: dockerfile parse error on line 2: unknown "
                                "instruction: FOO"),
    ("FROM busybox\nCOPY --nope=1 a b\n", "Dockerfile:2: COPY: unknown flag: --nope"),
    ("FROM busybox\nRUN --network=none\n", "Dockerfile:2: RUN: RUN requires at least one"),
    ("RUN x\n", "Dockerfile:1: no build stage"),
    ("FROM busybox\nCOPY a\n", "Dockerfile:2: COPY: COPY requires at least two arguments"),
    ("FROM a b\n", "Dockerfile:1: FROM: FROM requires either one or three arguments"),
    ("FROM busybox\nONBUILD FROM x\n", "FROM isn't allowed as an ONBUILD trigger"),
    ("FROM busybox\nSHELL /bin/bash\n", "SHELL requires the arguments to be in JSON form"),
])
def test_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse(text)
    assert message in str(info.value)


def test_escape_directive() -> None:
    assert escape_token("# escape=`\nFROM x\n") == "`"
    assert escape_token("FROM x\n# escape=`\n") == "\\"


def test_target_builds_only_needed_stages() -> None:
    parsed = parse("FROM busybox AS a\nFROM busybox AS b\nFROM busybox AS c\n"
                   "COPY --from=a /x /x\n")
    plan = plan_build(parsed, {}, "c")
    assert [s.name for s in plan.stages] == ["a", "c"]
    assert plan.total == 3
    with pytest.raises(InvalidArgument, match="target stage not found"):
        plan_build(parsed, {}, "zzz")


def test_meta_args_take_build_args() -> None:
    parsed = parse("ARG V=1\nARG W=${V}2\nFROM busybox\n")
    assert plan_build(parsed, {}, "").meta == {"V": "1", "W": "12"}
    assert plan_build(parsed, {"V": "7"}, "").meta == {"V": "7", "W": "72"}
